"""Names in refundkit/ that look unused to a reader of refundkit/ alone, each with why it is alive.

tests/test_dead_code.py runs vulture on refundkit/ with this file: vulture counts a name written here as used. Add a
name only with its reason; code nobody calls is deleted instead. Nothing here runs.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# -- called by the standard library's http.server / socketserver by name (sandbox/server.py) ------------------------
_.do_GET
_.do_POST
_.do_PUT
_.do_PATCH
_.do_DELETE
_.log_message
_.process_request
_.protocol_version
_.disable_nagle_algorithm
_.server_version
_.sys_version
_.close_connection
_.daemon_threads
_.request_queue_size

# -- read by tornado, jupyter_server and Voilà by name, or traitlets they configure (present/desk_server.py) ----------
_._jupyter_server_extension_points  # jupyter_server finds upload_guard's extension by these names
_.allow_template_override  # a Voilà trait: the desk's page keeps its own template whatever the URL asks
_._link_jupyter_server_extension
_._load_jupyter_server_extension
_.initialize
_.prepare
_.check_xsrf_cookie
_.post
_.uri
_.msg
_.get_handlers
_.get_user_token
_.user_to_cookie
_.auth_enabled
_.login_available
_.allow_password_change
_._no_config_files
_.display_url
_.connection_dir
_.port_retries
_.open_browser
_.identity_provider_class
_.secure_cookie
_.cookie_options
_.strip_sources
_.show_tracebacks
_.extension_denylist
_.file_allowlist
_.http_header_envs
_.multi_kernel_manager_class
_.cull_interval
_.cull_idle_timeout

# -- ipywidgets traits: setting them redraws the widget in the browser (present/) ----------------------------------
_.display
_.children
_.outputs
_.titles

# -- required by a protocol's signature (config.Secret) -------------------------------------------------------------
_.spec  # __format__(self, spec)
_.memo  # __deepcopy__(self, memo)

# -- read by name --------------------------------------------------------------------------------------------------
_.refunded_at_ms  # ledger/model.py ENTRY_FIELDS: written as refundedAtMs through operator.attrgetter

# -- the public API of the package for tests, notebooks and scripts (README, docstrings) -----------------------------
_.from_env  # VtexClient.from_env(): the README's and docstrings' way to build a client
_.set_aside_count  # ListReport.set_aside_count: the README names it
_.last_result  # RecordForm.last_result: notebook 01 and the tests read what the form recorded
_.payment_id  # vtex.models.Payment: a field of the parsed order, as VTEX sends it
_.in_flight  # vtex.limiter.LimiterStats: one of the limiter's figures
_.create_once  # vtex.notes.Notes.create_once: a note posted once by its marker (tests/vtex/test_e2e.py)
_.frames  # analytics.trenddata.TrendData.frames: notebook 03 reads it
_.details_coverage  # analytics.trenddata.TrendData.details_coverage: its tests read it
_.iter_files  # analytics.store.OrderStore.iter_files: tests/analytics/test_store.py reads the store's files

# -- refundkit.testing and the sandbox's store: the helpers tests drive the sandbox with ------------------------------
_.advance  # testing.ManualClock.advance
_.usd  # testing.OrderPicker
_.partly_returned
_.fully_returned
_.eligible
_.several_skus  # testing.OrderPicker: an order to refund by item
_.repeated_sku
_.fast  # vtex.transport.RetryPolicy.fast: retries without waiting, for tests
_.clear_records  # sandbox.server.Sandbox.clear_records
_.cancel_order  # sandbox.store.Store: a test changes an order as VTEX would
_.approve_payment
_.add_return_invoice

# -- the forms' public widget attributes and the notebook API, driven from notebooks and tests, not from refundkit/ ----
_.reverse_text  # RecordForm / RefundsTab: the reversal panel's question, read by people and by tests
_.cancel_reverse  # RecordForm / RefundsTab: the reversal panel's Cancel button
_.gross_vs_net  # RevenueData.gross_vs_net: the notebook call shown in analytics/revenue.py's docstring

# -- refunds by item: read by name ---------------------------------------------------------------------------------
_.lines_doc  # ledger.model.LedgerEntry.lines_doc: ENTRY_FIELDS names it as the "lines" field's attribute path
_.product_id  # vtex.models.OrderItem.product_id: the store's item rows and `refundkit items --by product` read it
_.sentences  # analytics.items.RefundDrivers.sentences: notebook 03 prints them beside its table of refund drivers
