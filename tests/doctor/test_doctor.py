"""``refundkit doctor`` against the sandbox over loopback, one VTEX behaviour per test: the rows a merchant reads.

The sandbox and the doctor share a fake clock, so search lag and notes lag are measured without waiting. After
every test: no money-moving call, no DELETE, no sandbox failure, and nothing written outside the scratch entity
unless the test picked an order for the notes probe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from refundkit.config import load_settings
from refundkit.doctor import SCRATCH_ENTITY, Doctor, DoctorOptions, DoctorReport, Status, save_scratch_schema
from refundkit.ledger import Ledger
from refundkit.ledger.verdict import load_verdict, verdict_path
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox import permissions as lm
from refundkit.sandbox.server import RequestRecord
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import check_nothing_moved
from refundkit.vtex import VtexClient
from refundkit.vtex.transport import RetryPolicy

PICK = "<an order of the store>"  # notes_order placeholder: the fixture picks a real order of the sandbox
SMALL = {"orders": 300, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30"}
WRITES = ("POST", "PUT", "PATCH", "DELETE")
READ_ONLY_POST = "/api/orders/extendsearch/orders"  # the PII data architecture's order list: a POST that reads


def posts(sb: Sandbox) -> list[RequestRecord]:
    """The POSTs that write (every one but the PII order list's search)."""
    return [r for r in list(sb.requests) if r.method == "POST" and r.path != READ_ONLY_POST]


class FakeClock:
    """Monotonic seconds that move when someone sleeps, and by ``tick`` at every reading (calls take time)."""

    def __init__(self, tick: float = 0.0) -> None:
        self.t = 10_000.0
        self.slept = 0.0
        self.tick = tick

    def now(self) -> float:
        self.t += self.tick
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.t += seconds
        self.slept += seconds


@dataclass
class Run:
    report: DoctorReport
    sb: Sandbox
    clock: FakeClock
    cache: Path

    def row(self, key: str) -> tuple[Status, str, str]:
        c = self.report.get(key)
        return c.status, c.result, c.action

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in list(self.sb.requests) if r.method in WRITES and r.path != READ_ONLY_POST]


@pytest.fixture
def doctor(tmp_path: Path) -> Iterator[Callable[..., Run]]:
    made: list[Sandbox] = []
    with ExitStack() as stack:

        def run(
            *,
            setup: bool = True,
            tick: float = 0.0,
            scratch_schema: bool = True,
            token: str | None = None,
            notes_order: str | None = None,
            search_deadline_s: float = 60.0,
            notes_deadline_s: float = 30.0,
            before: Callable[[Sandbox], Any] | None = None,
            pii_setting: str | None = None,
            **config: Any,
        ) -> Run:
            clock = FakeClock(tick)
            later = {k: config.pop(k) for k in ("denied_resources", "ip_blocked", "md_read_cache_s") if k in config}
            sb = Sandbox(SandboxConfig(**{**SMALL, **config}), clock=clock.now)
            made.append(sb)
            srv = stack.enter_context(sb.serve(port=0))
            cfg = sb.config
            env = {
                **sandbox_variables(srv.base_url, cfg),
                "REFUNDKIT_CACHE_DIR": str(tmp_path / f"cache{len(made)}"),
            }
            if setup:
                with VtexClient(load_settings(env=env, env_file=False), retry=RetryPolicy.fast()) as c:
                    if scratch_schema:  # as `refundkit setup` does
                        save_scratch_schema(c)
                    Ledger(c, journal_dir=False, verdict_dir=False).setup()
            for k, v in later.items():  # the key loses access after setup (setup needs Master Data administrator)
                setattr(sb.config, k, v)
            if before:
                before(sb)
            sb.clear_records()
            if notes_order == PICK:
                notes_order = _order(sb)
            if token is not None:
                env["VTEX_APP_TOKEN"] = token
            env.pop("REFUNDKIT_PII_ARCHITECTURE", None)  # an account's setting is what the test says, not the sandbox's
            if pii_setting is not None:
                env["REFUNDKIT_PII_ARCHITECTURE"] = pii_setting
            with VtexClient(load_settings(env=env, env_file=False), retry=RetryPolicy.fast()) as client:
                report = Doctor(client, clock=clock.now, sleep=clock.sleep).run(
                    DoctorOptions(
                        notes_order=notes_order,
                        search_deadline_s=search_deadline_s,
                        notes_deadline_s=notes_deadline_s,
                    )
                )
            return Run(report, sb, clock, Path(env["REFUNDKIT_CACHE_DIR"]))

        yield run
    for sb in made:
        check_nothing_moved(sb)


def _order(sb: Sandbox, n: int = 7) -> str:
    return sb.store.orders[n].order_id


# -- a healthy account -------------------------------------------------------------------------------------------


def test_a_healthy_account_passes_every_check_and_writes_only_scratch_documents(doctor: Callable[..., Run]) -> None:
    run = doctor(search_lag_s=2.0)
    report = run.report
    assert report.ok
    failing = [c.key for c in report.checks if c.status is Status.FAIL]
    assert failing == []
    assert run.row("credentials")[0] is Status.PASS
    for key in ("perm.oms-list", "perm.oms-view", "perm.md-read", "perm.md-write"):
        assert run.row(key)[0] is Status.PASS, key
    assert run.row("schema.offlineRefund")[0] is Status.PASS
    assert "indexed: orderId, version" in run.row("schema.offlineRefundOrder")[1]
    assert run.row("read-your-writes")[0] is Status.PASS
    status, result, _ = run.row("search-lag")
    assert status is Status.PASS and "after 2.0 s" in result
    assert report.get("search-lag").figures["lag_s"] == pytest.approx(2.0, abs=0.3)
    assert "incompleteOrders=false honoured" in run.row("oms-list")[1]
    # every write went to the scratch entity: no ledger document, no note, nothing on an order
    assert run.writes(), "the doctor must prove writing works"
    assert all(path.startswith(f"/api/dataentities/{SCRATCH_ENTITY}/") for _, path in run.writes())
    assert not [r for r in run.sb.requests if r.path.startswith("/api/do/notes")]
    assert run.sb.notes.notes == {}


def test_the_notes_probe_is_skipped_unless_an_order_is_picked(doctor: Callable[..., Run]) -> None:
    run = doctor()
    status, result, action = run.row("notes")
    assert status is Status.SKIPPED
    assert "doctor writes to an order only when you pick one" in result
    assert "--notes-order ORDER_ID" in action
    assert not posts(run.sb)


def test_roles_that_move_money_are_not_claimed_checked(doctor: Callable[..., Run]) -> None:
    status, result, action = doctor().row("perm.money")
    assert status is Status.WARN
    assert result.startswith("cannot be checked")
    for resource in ("Notify invoice", "Notify refund", "Cancel order", "Process payments"):
        assert resource in action


def test_master_data_administrator_held_is_a_warning_to_remove_it(doctor: Callable[..., Run]) -> None:
    status, _, action = doctor().row("perm.md-admin")
    assert status is Status.WARN
    assert "remove it after setup" in action


def test_master_data_administrator_not_held_passes_once_the_schemas_are_saved(doctor: Callable[..., Run]) -> None:
    run = doctor(denied_resources=frozenset({lm.MD_ADMIN}))
    assert run.row("perm.md-admin")[0] is Status.PASS
    assert run.report.ok


# -- failing variants --------------------------------------------------------------------------------------------


def test_bad_credentials_fail_with_what_to_check_and_skip_the_rest(doctor: Callable[..., Run]) -> None:
    run = doctor(token="not-the-token")
    status, result, action = run.row("credentials")
    assert status is Status.FAIL
    assert "401" in result
    assert "VTEX_APP_KEY and VTEX_APP_TOKEN" in action
    assert not run.report.ok and not run.report.unreachable
    assert {c.status for c in run.report.checks[1:]} == {Status.SKIPPED}
    assert run.writes() == []


def test_a_blocked_ip_is_not_blamed_on_a_role_alone(doctor: Callable[..., Run]) -> None:
    run = doctor(ip_blocked=True)
    status, result, action = run.row("credentials")
    assert status is Status.FAIL
    assert "403 to every call" in result and "blocks this machine's IP" in result
    assert "another network" in action
    assert {c.status for c in run.report.checks[1:]} == {Status.SKIPPED}


def test_a_missing_list_orders_permission_names_the_resource(doctor: Callable[..., Run]) -> None:
    run = doctor(denied_resources=frozenset({lm.LIST_ORDERS, lm.ORDERS_FULL}))
    assert run.row("credentials")[0] is Status.PASS
    status, result, action = run.row("perm.oms-list")
    assert status is Status.FAIL
    assert "403" in result
    assert action == "give the app key's role the resource 'OMS > OMS access > List Orders'"
    assert run.row("perm.oms-view")[0] is Status.PASS  # an unknown order answered 404, not 403
    assert run.row("oms-list")[0] is Status.SKIPPED
    assert not run.report.ok


def test_a_missing_view_order_permission_fails_that_row_only(doctor: Callable[..., Run]) -> None:
    run = doctor(denied_resources=frozenset({lm.VIEW_ORDER, lm.ORDERS_FULL}))
    status, _, action = run.row("perm.oms-view")
    assert status is Status.FAIL and "View order" in action
    assert run.row("perm.oms-list")[0] is Status.PASS
    assert run.row("amounts")[0] is Status.SKIPPED


def test_no_master_data_write_permission_fails_and_skips_the_consistency_probes(doctor: Callable[..., Run]) -> None:
    run = doctor(denied_resources=frozenset({lm.MD_WRITE, lm.MD_FULL, lm.MD_ADMIN}))
    status, _, action = run.row("perm.md-write")
    assert status is Status.FAIL
    assert "Insert or update document (not remove)" in action
    assert run.row("perm.md-read")[0] is Status.PASS
    assert run.row("read-your-writes")[0] is Status.SKIPPED
    assert run.row("search-lag")[0] is Status.SKIPPED


def test_unsaved_schemas_fail_with_run_setup_and_name_the_administrator_resource(doctor: Callable[..., Run]) -> None:
    run = doctor(setup=False, denied_resources=frozenset({lm.MD_ADMIN}))
    status, result, action = run.row("schema.offlineRefund")
    assert status is Status.FAIL
    assert "not saved" in result and "refundkit setup" in action
    status, _, action = run.row("perm.md-admin")
    assert status is Status.FAIL
    assert "Master Data administrator" in action and "refundkit setup" in action


def test_a_schema_saved_by_another_version_is_reported_with_what_differs(doctor: Callable[..., Run]) -> None:
    def older(sb: Sandbox) -> None:
        with sb.masterdata.lock:
            schema = dict(sb.masterdata.entities["offlineRefund"].schemas["refundkit-v1"])
            schema["v-indexed"] = ["orderId"]
            sb.masterdata.entities["offlineRefund"].schemas["refundkit-v1"] = schema

    status, result, action = doctor(before=older).row("schema.offlineRefund")
    assert status is Status.FAIL
    assert "v-indexed" in result and "not indexed: kind" in result
    assert "refundkit setup" in action


def test_search_lag_is_measured_and_slow_search_warns(doctor: Callable[..., Run]) -> None:
    run = doctor(search_lag_s=25.0)
    status, result, action = run.row("search-lag")
    assert status is Status.WARN
    assert "after 25.0 s" in result
    assert "other machines" in action
    assert run.report.ok  # exactly-once does not depend on search


def test_search_that_never_catches_up_fails_within_the_deadline(doctor: Callable[..., Run]) -> None:
    run = doctor(search_lag_s=500.0, search_deadline_s=30.0)
    status, result, action = run.row("search-lag")
    assert status is Status.FAIL
    assert "written 30 s ago is still not found" in result
    assert "run doctor again later" in action
    assert run.clock.slept == pytest.approx(30.0)  # bounded: gave up at the deadline


# -- the notes probe ---------------------------------------------------------------------------------------------


def test_notes_listed_at_once_pass_and_only_the_picked_order_gets_a_note(doctor: Callable[..., Run]) -> None:
    run = doctor(notes_order=PICK)
    oid = _order(run.sb)
    status, result, _ = run.row("notes")
    assert status is Status.PASS
    assert f"posted on order {oid} and was listed at once" in result
    posted = posts(run.sb)
    assert [r.path for r in posted] == ["/api/do/notes"]
    (note,) = run.sb.notes.notes.values()
    assert note["target"]["id"] == oid
    assert "records no refund" in note["description"] and "VTEX moved no money" in note["description"]


def test_notes_listed_late_warn_with_the_measured_delay(doctor: Callable[..., Run]) -> None:
    run = doctor(notes_list_lag_s=6.0, notes_order=PICK)
    status, result, action = run.row("notes")
    assert status is Status.WARN
    assert "listed only after 6.0 s" in result
    assert "wait 12 s before retrying it" in action
    assert run.report.ok


def test_notes_listed_later_than_reconcile_waits_fail(doctor: Callable[..., Run]) -> None:
    run = doctor(notes_list_lag_s=70.0, notes_order=PICK, notes_deadline_s=100.0)
    status, result, action = run.row("notes")
    assert status is Status.FAIL
    assert "listed only after 70.0 s" in result and "longer than the 120 s" in result
    assert "check the order's notes in the VTEX Admin" in action


def test_notes_never_listed_fail_at_the_deadline(doctor: Callable[..., Run]) -> None:
    run = doctor(notes_list_lag_s=999.0, notes_order=PICK, notes_deadline_s=20.0)
    status, result, _ = run.row("notes")
    assert status is Status.FAIL
    assert "still not listed after 20 s" in result
    assert not run.report.ok


def test_an_order_with_thirty_notes_gets_no_test_note(doctor: Callable[..., Run]) -> None:
    def fill(sb: Sandbox) -> None:
        oid = _order(sb)
        for i in range(30):
            sb.notes._add({"id": f"N{i}", "target": {"id": oid, "type": "order", "url": "/"}, "description": f"n{i}"})

    run = doctor(notes_order=PICK, before=fill)
    status, result, _ = run.row("notes")
    assert status is Status.SKIPPED
    assert "already holds 30 notes" in result
    assert not posts(run.sb)


def test_an_unknown_notes_order_fails_without_writing(doctor: Callable[..., Run]) -> None:
    run = doctor(notes_order="9999999999999-01")
    status, result, action = run.row("notes")
    assert status is Status.FAIL
    assert "9999999999999-01" in result and "pick an order that exists" in action
    assert not posts(run.sb)


# -- what VTEX sends about orders ---------------------------------------------------------------------------------


def _rewrite(sb: Sandbox, method: str, example: str, change: Callable[[Any], None], query: str | None = None) -> None:
    """Make the served sandbox answer the endpoint of ``method example`` with its body changed by ``change`` (a VTEX
    that sends something else than the sandbox's default store); with ``query``, only requests that carry it."""
    for i, (m, rx, handler) in enumerate(sb._routes):
        if m == method and rx.match(example):

            def wrapped(req: Any, _h: Any = handler, **kw: Any) -> Any:
                resp = _h(req, **kw)
                if resp.status == 200 and (query is None or query in req.query):
                    change(resp.body)
                return resp

            sb._routes[i] = (m, rx, wrapped)


def _as_clp(body: dict[str, Any]) -> None:
    """The order in Chilean pesos, with VTEX's cents: CLP 12.345 sent as 1234500."""
    body["storePreferencesData"] = {
        **body["storePreferencesData"],
        "currencyCode": "CLP",
        "currencyFormatInfo": {**body["storePreferencesData"]["currencyFormatInfo"], "CurrencyDecimalDigits": 0},
    }
    body["value"] = 1234500
    body["totals"] = [{"id": "Items", "name": "Total dos Itens", "value": 1234500}]
    for it in body.get("items") or []:
        it["sellingPrice"] = it["price"] = it["listPrice"] = 1234500
    for tx in body["paymentData"]["transactions"]:
        for p in tx["payments"]:
            p["value"] = 1234500
    body["packageAttachment"] = {"packages": []}


def test_amounts_of_a_real_order_are_shown_as_sent_and_as_read(doctor: Callable[..., Run]) -> None:
    run = doctor()
    status, result, _ = run.row("amounts")
    assert status is Status.PASS
    figures = run.report.get("amounts").figures
    assert f"VTEX sent value {figures['vtex_value']}" in result
    assert figures["currency"] in ("BRL", "USD") and figures["refundkit_minor"] == figures["vtex_value"]


def test_a_zero_decimal_currency_asks_the_merchant_to_confirm_the_total(doctor: Callable[..., Run]) -> None:
    run = doctor(before=lambda sb: _rewrite(sb, "GET", "/api/oms/pvt/orders/1-01", _as_clp))
    status, result, action = run.row("amounts")
    assert status is Status.WARN
    assert "VTEX sent value 1234500" in result and "refundkit reads CLP 12345" in result
    assert "confirm its total is CLP 12345; if it is CLP 1234500, set REFUNDKIT_ZERO_DECIMAL_AMOUNTS=units" in action
    assert run.report.get("amounts").figures["currency_decimal_digits"] == 0


def test_incomplete_orders_listed_despite_the_filter_fail(doctor: Callable[..., Run]) -> None:
    def incomplete(body: dict[str, Any]) -> None:
        for row in body["list"][:1]:  # the first row of every list answer (some, filtered by status, are empty)
            row["orderIsComplete"] = False

    run = doctor(before=lambda sb: _rewrite(sb, "GET", "/api/oms/pvt/orders", incomplete))
    status, result, _ = run.row("oms-list")
    assert status is Status.FAIL
    assert "incompleteOrders=false was ignored" in result
    assert any(r.query.get("incompleteOrders") == "false" for r in run.sb.requests if r.path == "/api/oms/pvt/orders")


# -- conditional writes: the ledger's probe, shown and saved --------------------------------------------------------


def test_the_verdict_is_shown_and_saved_with_its_date(doctor: Callable[..., Run]) -> None:
    run = doctor(md_failed_condition_status=412, md_missing_document="empty-document")
    status, result, _ = run.row("cw.condition")
    assert status is Status.PASS and "answered 412" in result and "never by the status" in result
    status, result, _ = run.row("cw.missing")
    assert status is Status.PASS and "evaluated against an empty document" in result
    status, result, _ = run.row("exactly-once")
    assert status is Status.PASS and "verdict saved" in result
    saved = load_verdict(run.cache, run.sb.config.account)
    assert saved is not None
    assert (saved.missing_document, saved.failed_condition_status) == ("empty-document", 412)
    assert run.report.verdict_path == str(verdict_path(run.cache, run.sb.config.account))


def test_conditions_ignored_fail_and_say_recording_is_refused(doctor: Callable[..., Run]) -> None:
    run = doctor(md_conditions_honoured=False, md_failed_condition_status=204)
    status, result, action = run.row("cw.condition")
    assert status is Status.FAIL and result.startswith("ignored: a write under a false condition was applied")
    assert "refuses to record" in action
    status, result, action = run.row("exactly-once")
    assert status is Status.FAIL and "ignores _where conditions" in result
    assert "`record`, `reverse` and `import` refuse to write" in action
    assert not run.report.ok
    saved = load_verdict(run.cache, run.sb.config.account)
    assert saved is not None and saved.exactly_once_holds()[0] is False


def test_conditions_refused_on_missing_documents_fail(doctor: Callable[..., Run]) -> None:
    run = doctor(md_missing_document="refused", md_failed_condition_status=409)
    status, result, _ = run.row("cw.missing")
    assert status is Status.FAIL and "refused, even `version is null`" in result
    assert run.row("cw.condition")[0] is Status.PASS
    assert run.row("exactly-once")[0] is Status.FAIL


def test_the_conditional_write_probe_writes_only_scratch_documents(doctor: Callable[..., Run]) -> None:
    run = doctor(md_missing_document="created")
    docs = [p for m, p in run.writes() if "/documents/" in p]
    assert any("/documents/probe-condition-" in p for p in docs)
    assert all(p.startswith(f"/api/dataentities/{SCRATCH_ENTITY}/documents/") for p in docs)


# -- read-your-writes under VTEX's read cache ---------------------------------------------------------------------


def test_reads_by_id_stay_fresh_once_the_scratch_schema_turns_the_cache_off(doctor: Callable[..., Run]) -> None:
    run = doctor(md_read_cache_s=30.0)
    assert run.row("read-your-writes")[0] is Status.PASS
    assert run.row("exactly-once")[0] is Status.PASS


def test_a_cached_read_by_id_fails_and_points_at_setup(doctor: Callable[..., Run]) -> None:
    # set up by an older refundkit that did not save the scratch schema, and doctor may not save it
    def forget_scratch_schema(sb: Sandbox) -> None:
        sb.masterdata.entities[SCRATCH_ENTITY].schemas.clear()
        sb.masterdata.entities[SCRATCH_ENTITY].validators.clear()

    run = doctor(
        md_read_cache_s=30.0,
        scratch_schema=False,
        denied_resources=frozenset({lm.MD_ADMIN}),
        before=forget_scratch_schema,
    )
    status, result, action = run.row("read-your-writes")
    assert status is Status.FAIL
    assert "did not return a new document" in result and "turns VTEX's cache off" in result
    assert action == "run `refundkit setup` (it saves that schema), then doctor again"
    assert run.row("exactly-once")[0] is Status.FAIL
    assert not run.report.ok


def test_view_payment_data_is_optional_and_its_absence_is_explained(doctor: Callable[..., Run]) -> None:
    held = doctor()
    status, result, _ = held.row("perm.payments")
    assert status is Status.PASS and "GET only" in result
    run = doctor(payments_permission=False)
    status, result, action = run.row("perm.payments")
    assert status is Status.WARN
    assert "without a return invoice were not checked" in result
    assert "View Payment Data" in action and "never 'Process payments'" in action
    assert run.report.ok
    assert not [r for r in run.sb.requests if r.path.startswith("/api/pvt/") and r.method != "GET"]


def test_a_note_listed_at_the_first_look_is_listed_at_once_however_long_the_calls_take(
    doctor: Callable[..., Run],
) -> None:
    run = doctor(notes_order=PICK, tick=0.05)
    status, result, _ = run.row("notes")
    assert status is Status.PASS and result.endswith("was listed at once")
    assert run.row("search-lag")[0] is Status.PASS


# -- the PII data architecture ------------------------------------------------------------------------------------


def test_a_classic_account_is_told_classic(doctor: Callable[..., Run]) -> None:
    run = doctor()
    status, result, _ = run.row("orders-api")
    assert status is Status.PASS and result.startswith("classic:")


@pytest.mark.parametrize("classic_status", [403, 404, 400, 302])
def test_an_account_on_the_pii_data_architecture_is_recognised_however_the_classic_endpoints_refuse(
    doctor: Callable[..., Run], classic_status: int
) -> None:
    run = doctor(pii_architecture=True, pii_classic_status=classic_status)
    status, result, action = run.row("orders-api")
    assert status is Status.FAIL  # REFUNDKIT_PII_ARCHITECTURE is off
    assert "on VTEX's PII data architecture" in result and f"(VTEX answered {classic_status})" in result
    assert "read back through it" in result and "customer data comes masked" in result and "(piiHidden)" in result
    assert "\n" not in result
    assert action.startswith("set REFUNDKIT_PII_ARCHITECTURE=on")
    # the other rows read the orders through the PII endpoints: nothing there blames the key's roles
    for key in ("perm.oms-list", "perm.oms-view", "oms-list", "amounts"):
        assert run.row(key)[0] is Status.PASS, key


def test_the_pii_setting_on_a_pii_account_passes(doctor: Callable[..., Run]) -> None:
    run = doctor(pii_architecture=True, pii_setting="on")
    status, result, _ = run.row("orders-api")
    assert status is Status.PASS and "on VTEX's PII data architecture" in result
    assert run.report.ok


def test_the_pii_setting_on_a_classic_account_fails_saying_to_turn_it_off(doctor: Callable[..., Run]) -> None:
    run = doctor(pii_setting="on")
    status, result, action = run.row("orders-api")
    assert status is Status.FAIL and "REFUNDKIT_PII_ARCHITECTURE=on, but" in result
    assert action.startswith("set REFUNDKIT_PII_ARCHITECTURE=off")


def test_one_refusal_of_the_classic_list_is_not_taken_for_the_pii_architecture(doctor: Callable[..., Run]) -> None:
    """A key without List Orders is refused by both lists: that is a permission, not the PII architecture."""
    run = doctor(denied_resources=frozenset({lm.LIST_ORDERS, lm.ORDERS_FULL}))
    status, result, _ = run.row("orders-api")
    assert status is Status.SKIPPED and "neither order list answered" in result
    assert run.row("perm.oms-list")[0] is Status.FAIL


# -- what list rows leave open: date precision and invoiceInput -----------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "invoice_input"),
    [("exact", "present"), ("seconds", "present"), ("exact", "absent"), ("exact", "null"), ("seconds", "empty")],
)
def test_the_list_rows_dates_and_return_invoices_are_told_in_one_row(
    doctor: Callable[..., Run], dates: str, invoice_input: str
) -> None:
    run = doctor(list_dates=dates, list_invoice_input=invoice_input)
    check = run.report.get("list-rows")
    assert check.status is Status.PASS
    assert (check.figures["dates"], check.figures["invoice_input"]) == (dates, invoice_input)
    assert ("in whole seconds, truncated" in check.result) == (dates == "seconds")
    assert ("as exactly as the order itself" in check.result) == (dates == "exact")
    said = {"present": "name return invoices", "absent": "carry no invoiceInput", "null": "invoiceInput null"}
    assert said.get(invoice_input, "invoiceInput empty") in check.result
    assert "f_hasInputInvoice=true listing" in check.result and "whole second" in check.result
    listed = check.figures["return_invoice_order"]
    assert run.sb.store.order(listed).input_invoices  # looked at on an order that has a return invoice


def test_list_rows_with_no_return_invoice_anywhere_are_not_guessed(doctor: Callable[..., Run]) -> None:
    def none_returned(body: dict[str, Any]) -> None:
        body["list"], body["paging"]["total"] = [], 0

    run = doctor(before=lambda sb: _rewrite(sb, "GET", "/api/oms/pvt/orders", none_returned, "f_hasInputInvoice"))
    check = run.report.get("list-rows")
    assert check.figures["invoice_input"] == "unknown" and "no order has one yet" in check.result


# -- statuses: what the account's orders carry ------------------------------------------------------------------


def _last_30_days(sb: Sandbox) -> list[Any]:
    newest = sb.store.orders[-1].created.ns
    return [o for o in sb.store.orders if newest - 30 * 86_400 * 10**9 <= o.created.ns]


def test_the_statuses_seen_are_counted_and_all_known_on_a_plain_account(doctor: Callable[..., Run]) -> None:
    run = doctor()
    status, result, _ = run.row("statuses")
    assert status is Status.PASS and "every status is one refundkit knows" in result
    figures = run.report.get("statuses").figures
    seen = _last_30_days(run.sb)
    assert figures["total"] == len(seen)
    assert figures["by_status"]["invoiced"] == sum(1 for o in seen if o.status == "invoiced")
    assert figures["unknown"] == {} and figures["several_statuses_in_one_filter"] is True


def test_a_status_nobody_documents_is_named_with_its_count_in_one_row(doctor: Callable[..., Run]) -> None:
    run = doctor(unknown_statuses=40, unknown_status="awaiting-review", rare_statuses=1)
    status, result, action = run.row("statuses")
    n = sum(1 for o in _last_30_days(run.sb) if o.status == "awaiting-review")
    assert n > 0
    assert status is Status.WARN
    assert f"{n} order(s) have a status refundkit does not know ('awaiting-review' {n}" in result
    assert "counts them in gross" in action
    figures = run.report.get("statuses").figures
    assert figures["unknown"] == {"awaiting-review": n} and figures["unknown_unnamed"] == 0
    # the rarer documented statuses are known: they are counted, not named as unknown
    assert all(s == "awaiting-review" for s in figures["unknown"])
    assert not [w for w in run.writes() if "/oms/" in w[1]]  # counting changes nothing


def test_the_statuses_row_is_skipped_when_the_order_list_is_denied(doctor: Callable[..., Run]) -> None:
    run = doctor(denied_resources=frozenset({lm.LIST_ORDERS, lm.ORDERS_FULL}))
    assert run.row("statuses")[0] is Status.SKIPPED
