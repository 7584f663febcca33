"""Settings of the sandbox and the faults it can inject.

:class:`SandboxConfig` is a plain mutable dataclass: the store-shaping fields (``seed``, ``orders``,
``flash_sale_orders``, ``start``, ``end``, ``today``, ``flash_sale_day``, ``flash_sale_hours``) are read once when the
synthetic store is built; every other field is read on each request, so a test can change ``sb.config.latency_ms``
while the server runs.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args

from ..argtypes import number
from ..timeutil import utc_now

__all__ = [
    "CONDITION_STATUSES",
    "DEMO_ACCOUNT",
    "DEMO_APP_KEY",
    "DEMO_APP_TOKEN",
    "PII_CLASSIC_STATUSES",
    "FaultRule",
    "FaultRules",
    "ItemInfo",
    "ItemPrices",
    "ListDates",
    "ListInvoiceInput",
    "MissingDocumentMode",
    "SandboxConfig",
    "TotalsChange",
    "ValueAfterReturn",
    "add_listing_flags",
    "add_masterdata_flags",
    "listing_options",
    "masterdata_options",
]

DEMO_ACCOUNT = "refundkitdemo"
DEMO_APP_KEY = "vtexappkey-refundkitdemo-SANDBOX"
# A public constant of the local sandbox, not a secret: it opens nothing but this fake server.
# Random-looking, as a real token is: a token with words in it would have redaction mask those words in every message
# (any 8 of its characters in a row are taken for it), such as refundkit's own schema names.
DEMO_APP_TOKEN = "Q7XK2M9PZW4TRB8NJC5VYH3LDG6FS1E0QMZK7PXW2NRT9BJC4VHY8LGD5SF3A6E0"  # noqa: S105 - public, see above


#: What Master Data may do with a ``_where`` condition on an id that holds no document (VTEX does not document it):
#: ``created`` ignores the condition and creates the document; ``empty-document`` evaluates the condition against an
#: empty document (``version is null`` holds, ``version=0`` does not); ``refused`` refuses every conditional write
#: on a missing document (answered like a failed condition).
MissingDocumentMode = Literal["created", "empty-document", "refused"]
#: What VTEX's order ``value`` (and the list's ``totalValue``) may do once a return invoice is added: stay what was
#: charged, or drop by the returned amount (VTEX's partial-invoice guide says the total is "updated").
ValueAfterReturn = Literal["kept", "reduced"]
#: Whether an order's ``totals`` show its order changes (VTEX's own example of an order's details lists a ``Change``
#: total; the rest of the spec does not say): ``absent`` (the totals stay as at checkout, so they no longer add up to
#: the lowered ``value``) or ``listed`` (a ``Change`` total of what the changes took off, negative).
TotalsChange = Literal["absent", "listed"]
#: Which price fields an order's items carry (VTEX does not say which carry an order-level promotion, and older
#: orders lack some): ``full`` — ``priceDefinition`` and a ``sellingPrice`` after every discount; ``no-definition``
#: — no ``priceDefinition``; ``before-promotions`` — no ``priceDefinition``, and an order-level promotion is in the
#: lines' ``priceTags`` and the ``Discounts`` total only, not in ``sellingPrice``. What was paid is the same in all.
ItemPrices = Literal["full", "no-definition", "before-promotions"]
#: What an order's items say of their catalog (the spec marks nothing of ``additionalInfo`` as required): ``full`` —
#: ``productId`` and ``additionalInfo`` (``brandName``, ``categories``); ``none`` — neither (an order of a seller
#: whose catalog VTEX does not hold, say). Analyses by product, category or brand must still count every unit.
ItemInfo = Literal["full", "none"]
#: How list rows write ``creationDate`` (VTEX's ListOrders example shows whole seconds, Get order 7 decimals; the
#: filter compares the exact instant either way): ``exact`` with 7 fractional digits, ``seconds`` truncated.
ListDates = Literal["exact", "seconds"]
#: What list rows carry as ``invoiceInput`` (not in the ListOrders schema): ``present`` the return invoice numbers
#: (null when none), ``absent`` no such key, ``null`` always null, ``empty`` always ``[]``.
ListInvoiceInput = Literal["present", "absent", "null", "empty"]
#: How Master Data search orders documents whose ``_sort`` field is equal (VTEX does not say): ``by-id`` in one
#: fixed order (id ascending), ``any`` in an order of each request's own, so that two pages may disagree about ties.
SortTies = Literal["by-id", "any"]
#: What search's ``REST-Content-Range`` says of the total (the spec: "Total number of documents that match"; a known
#: issue: stuck at about 300 when a custom index answers): ``exact``; ``missing`` (no header); ``capped`` (never more
#: than 300); ``rounded`` (to two significant digits, as an estimate).
SearchTotal = Literal["exact", "missing", "capped", "rounded"]
#: What a ``*`` in a search's ``_where`` value does (the spec shows ``*value*`` but says nothing of letters' case):
#: ``case-sensitive`` a wildcard matching letters as written; ``case-insensitive`` one ignoring case; ``literal``
#: no wildcard (``*`` is a character: such a search finds nothing); ``refused`` answered 400.
Wildcards = Literal["case-sensitive", "case-insensitive", "literal", "refused"]
#: Plausible answers to a write whose ``_where`` fails (VTEX does not document it); 200 and 204 apply nothing.
CONDITION_STATUSES: tuple[int, ...] = (304, 400, 409, 412, 200, 204)
#: Plausible answers of the classic order endpoints on an account on the PII data architecture (VTEX does not say);
#: 302 redirects to the PII path.
PII_CLASSIC_STATUSES: tuple[int, ...] = (403, 404, 400, 302)


@dataclass
class SandboxConfig:
    """Everything the sandbox can be told. Defaults give the demo store (about 9,300 orders over 13 months up to
    today)."""

    seed: int = 7
    orders: int = 6000
    flash_sale_orders: int = 3200
    # The store's first and last UTC days. Left empty, they follow ``today``: from the first day of the month a year
    # before it (13 months: that month, twelve more, and ``today``'s own up to ``today``), up to ``today``.
    start: str = ""
    end: str = ""
    # The day the demo store runs up to, such as "2026-10-31" (tests pin it, so their figures stay exact). None:
    # today by refundkit's clock (refundkit.timeutil.utc_now, which REFUNDKIT_SANDBOX_CLOCK_SHIFT_DAYS moves), and
    # then the store holds only what has happened by now: an order placed later today, or a payment, invoice,
    # cancellation or return invoice due after now, is not there yet (the order shows its earlier status).
    today: str | None = None
    latency_ms: float = 0
    rate_limit: float | None = None
    error_rate: float = 0.0
    search_lag_s: float = 0.0
    state_dir: str | Path | None = None
    account: str = DEMO_ACCOUNT
    app_key: str = DEMO_APP_KEY
    app_token: str = field(default=DEMO_APP_TOKEN, repr=False)
    # Beyond the brief's list, all with VTEX's values as defaults:
    flash_sale_day: str | None = None  # None: 2026-06-15 when inside [start, end], else the middle day
    # None: the flash sale's orders spread over its day by a daily curve; a number of hours: all within that many
    # hours from 02:00 UTC (23:00 the evening before in the store's zone, UTC-3), evenly
    flash_sale_hours: float | None = None
    scroll_ttl_s: float = 20 * 60  # a Master Data scroll token dies after 20 minutes unused
    max_scrolls: int = 10  # live scroll tokens per account
    # A key lacking License Manager resources (names as in refundkit.sandbox.permissions): 403 where none allows a call.
    denied_resources: frozenset[str] = frozenset()
    ip_blocked: bool = False  # VTEX's firewall blocks the caller: 403 to everything, whatever the credentials
    notes_list_lag_s: float = 0.0  # seconds before a posted note shows in GET /api/do/notes (VTEX: undocumented)
    # Master Data behaviours VTEX does not document, so that refundkit can be tested under each plausible one:
    md_failed_condition_status: int = 304  # the answer to a write whose _where fails (nothing is written)
    md_missing_document: MissingDocumentMode = "created"  # a _where on an id with no document
    md_conditions_honoured: bool = True  # False: _where is ignored and every write is applied
    md_sort_ties: SortTies = "by-id"  # the order of search hits whose _sort field is equal
    md_search_total: SearchTotal = "exact"  # what REST-Content-Range says of the total
    md_wildcards: Wildcards = "case-sensitive"  # what a * in a search's _where does
    # VTEX's refunds beyond return invoices (refundkit.sandbox.payments): seed a handful of orders with order
    # changes, gateway-only refunds and restitutions; and whether the app key may read payment transactions.
    other_refunds: bool = False
    payments_permission: bool = True
    # Payment transactions as a real account may show them (refundkit.sandbox.payments), all off in the demo store:
    order_groups: int = 0  # carts split into 2-3 orders (sellers, deliveries) that share one payment transaction
    installment_interest: bool = False  # card payments in installments carry interest (value above referenceValue)
    foreign_payments: int = 0  # orders whose payment transaction is another account's: 403 to reading it
    gateway_dates_offset_h: int = 0  # the gateway writes its zone-less dates at this UTC offset (0: in UTC)
    # VTEX's order value after a return invoice (undocumented): "kept" as charged, or "reduced" by the returned amount
    value_after_return: ValueAfterReturn = "kept"
    # VTEX's order totals, where the spec leaves them open (refundkit.sandbox.payments): whether order changes show
    # as a Change total, and this many orders whose totals carry an id nobody documents (unknown_total_id), holding
    # part of their Items total (the value stays the sum of the totals).
    totals_change: TotalsChange = "absent"
    unknown_totals: int = 0
    unknown_total_id: str = "Fees"
    # Which price fields an order's items carry (ItemPrices): what refundkit reads as the price paid must not change
    item_prices: ItemPrices = "full"
    # What an order's items say of their catalog (ItemInfo): "full", or "none" (no productId, no additionalInfo)
    item_info: ItemInfo = "full"
    # VTEX caches reads by id for entities whose schema does not set "v-cache": false (refundkit's schemas do): such
    # a read answers the document as it was up to this many seconds ago (0: no cache).
    md_read_cache_s: float = 0.0
    # An account on VTEX's PII data architecture (refundkit.sandbox.piiorders): orders only through the PII Orders
    # API, customer data masked; the classic order endpoints answer pii_classic_status (VTEX does not say which).
    pii_architecture: bool = False
    pii_classic_status: int = 403
    # Order-list rows, where VTEX leaves the answer open (see ListDates and ListInvoiceInput); read on each request.
    list_dates: ListDates = "exact"
    list_invoice_input: ListInvoiceInput = "present"
    # Statuses (refundkit.statuses): this many orders of each documented status the demo store's mix lacks (such as
    # invoice-after-cancellation-deny, approve-payment, order-create-error), and this many orders with
    # ``unknown_status``, a status nobody documents. Both 0 by default: the demo store's figures stay as they are.
    rare_statuses: int = 0
    unknown_statuses: int = 0
    unknown_status: str = "awaiting-review"
    # Every answer carries X-Refundkit-Sandbox, so that a client on this machine may pace itself fast; False answers
    # as VTEX would (benchmarks whose sandbox plays a remote account).
    announce: bool = True
    # VTEX's clock, as the Date header of its answers gives it: this many seconds ahead of this computer's (negative:
    # behind). date_header False answers without one (a proxy that strips it). A sync decides what it covered by it.
    clock_offset_s: float = 0.0
    date_header: bool = True
    # A broken server or proxy that echoes the request's headers (the app token included) into the orders it
    # answers: each list row's clientName and totalValue, and the order's clientProfileData.firstName and value.
    echo_headers: bool = False

    #: Whether the store follows the clock (neither ``today`` nor ``end`` given): set when the config is made.
    follows_clock: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        self.follows_clock = self.today is None and not self.end
        if self.today is not None:
            self.today = _iso_day("today", self.today)
        if not self.end:
            self.end = self.today or utc_now().to_datetime().date().isoformat()
        if not self.start:
            self.start = year_before(date.fromisoformat(_iso_day("end", self.end))).isoformat()
        if self.list_dates not in get_args(ListDates):
            raise ValueError(f"list_dates must be one of {', '.join(get_args(ListDates))}, got {self.list_dates!r}")
        if self.list_invoice_input not in get_args(ListInvoiceInput):
            raise ValueError(
                f"list_invoice_input must be one of {', '.join(get_args(ListInvoiceInput))}, "
                f"got {self.list_invoice_input!r}"
            )
        if self.flash_sale_hours is not None and not 0 < self.flash_sale_hours <= 22:
            raise ValueError(f"flash_sale_hours must be more than 0 and at most 22, got {self.flash_sale_hours}")
        if self.rare_statuses < 0 or self.unknown_statuses < 0:
            raise ValueError("rare_statuses and unknown_statuses cannot be negative")
        if not self.unknown_status or not set(self.unknown_status) <= set("abcdefghijklmnopqrstuvwxyz0123456789-"):
            raise ValueError(f"unknown_status must be a status such as awaiting-review, got {self.unknown_status!r}")
        if self.md_missing_document not in get_args(MissingDocumentMode):
            raise ValueError(
                f"md_missing_document must be one of {', '.join(get_args(MissingDocumentMode))}, "
                f"got {self.md_missing_document!r}"
            )
        for name, kind in (("md_sort_ties", SortTies), ("md_search_total", SearchTotal), ("md_wildcards", Wildcards)):
            if getattr(self, name) not in get_args(kind):
                raise ValueError(f"{name} must be one of {', '.join(get_args(kind))}, got {getattr(self, name)!r}")
        if self.value_after_return not in get_args(ValueAfterReturn):
            raise ValueError(
                f"value_after_return must be one of {', '.join(get_args(ValueAfterReturn))}, "
                f"got {self.value_after_return!r}"
            )
        if self.totals_change not in get_args(TotalsChange):
            raise ValueError(
                f"totals_change must be one of {', '.join(get_args(TotalsChange))}, got {self.totals_change!r}"
            )
        if self.unknown_totals < 0:
            raise ValueError("unknown_totals cannot be negative")
        if not self.unknown_total_id or self.unknown_total_id in ("Items", "Discounts", "Shipping", "Tax", "Change"):
            raise ValueError(f"unknown_total_id must be an id VTEX does not document, got {self.unknown_total_id!r}")
        if self.item_prices not in get_args(ItemPrices):
            raise ValueError(f"item_prices must be one of {', '.join(get_args(ItemPrices))}, got {self.item_prices!r}")
        if self.item_info not in get_args(ItemInfo):
            raise ValueError(f"item_info must be one of {', '.join(get_args(ItemInfo))}, got {self.item_info!r}")
        if self.order_groups < 0 or self.foreign_payments < 0:
            raise ValueError("order_groups and foreign_payments cannot be negative")
        if not -14 <= self.gateway_dates_offset_h <= 14:
            raise ValueError(f"gateway_dates_offset_h must be a UTC offset in hours, got {self.gateway_dates_offset_h}")
        if self.pii_classic_status not in PII_CLASSIC_STATUSES:
            raise ValueError(
                f"pii_classic_status must be one of {', '.join(map(str, PII_CLASSIC_STATUSES))}, "
                f"got {self.pii_classic_status}"
            )
        if not (200 <= self.md_failed_condition_status < 300 or 300 <= self.md_failed_condition_status < 500):
            raise ValueError(
                f"md_failed_condition_status must be a 2xx, 3xx or 4xx, got {self.md_failed_condition_status}"
            )


def year_before(last: date) -> date:
    """The first day of the month a year before ``last``'s: where a store running up to ``last`` starts."""
    return date(last.year - 1, last.month, 1)


def _iso_day(name: str, text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a day such as 2026-10-31, got {text!r}") from None


def add_masterdata_flags(parser: argparse.ArgumentParser) -> None:
    """The sandbox's flags for Master Data's undocumented behaviours (one definition for every entry point)."""
    parser.add_argument(
        "--md-failed-condition-status",
        type=int,
        choices=CONDITION_STATUSES,
        default=SandboxConfig.md_failed_condition_status,
        help="status of a Master Data write whose _where fails; 200/204 answer success and apply nothing (default 304)",
    )
    parser.add_argument(
        "--md-missing-document",
        choices=get_args(MissingDocumentMode),
        default=SandboxConfig.md_missing_document,
        help="what a _where on an id with no document does: created (condition ignored), empty-document (evaluated "
        "against an empty document) or refused (default created)",
    )
    parser.add_argument(
        "--md-conditions-ignored",
        action="store_true",
        help="Master Data ignores _where on writes (refundkit then refuses to record, saying why)",
    )
    for name, kind, text in (
        (
            "md_sort_ties",
            SortTies,
            "the order of search hits with an equal _sort field: by-id (one fixed order) or any (each request its own)",
        ),
        (
            "md_search_total",
            SearchTotal,
            (
                "what search's REST-Content-Range says of the total: exact, missing (no "
                "header), capped (at most 300) or rounded (two significant digits)"
            ),
        ),
        (
            "md_wildcards",
            Wildcards,
            (
                "what a * in a search's _where does: case-sensitive, case-insensitive, literal "
                "(no wildcard) or refused (400)"
            ),
        ),
    ):
        default = getattr(SandboxConfig, name)
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, choices=get_args(kind), default=default, help=f"{text} (default {default})")


def masterdata_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`SandboxConfig` fields the flags of :func:`add_masterdata_flags` set."""
    return {
        "md_failed_condition_status": args.md_failed_condition_status,
        "md_missing_document": args.md_missing_document,
        "md_conditions_honoured": not args.md_conditions_ignored,
        "md_sort_ties": args.md_sort_ties,
        "md_search_total": args.md_search_total,
        "md_wildcards": args.md_wildcards,
    }


def add_listing_flags(parser: argparse.ArgumentParser) -> None:
    """The sandbox's flags for what VTEX's order-list rows leave open (one definition for every entry point)."""
    parser.add_argument(
        "--list-dates",
        choices=get_args(ListDates),
        default=SandboxConfig.list_dates,
        help="list rows' creationDate: exact (7 decimals) or seconds (truncated to the second, as VTEX's ListOrders "
        "example; the filter still compares the exact instant) (default exact)",
    )
    parser.add_argument(
        "--list-invoice-input",
        choices=get_args(ListInvoiceInput),
        default=SandboxConfig.list_invoice_input,
        help="list rows' invoiceInput: present (return invoice numbers, null when none), absent, null (always) or "
        "empty (always []) (default present)",
    )
    parser.add_argument(
        "--flash-sale-hours",
        type=number(float, 0.01, 22),
        default=None,
        metavar="HOURS",
        help="put all the flash sale's orders within this many hours from 02:00 UTC (default: over its whole day)",
    )


def listing_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`SandboxConfig` fields the flags of :func:`add_listing_flags` set."""
    return {
        "list_dates": args.list_dates,
        "list_invoice_input": args.list_invoice_input,
        "flash_sale_hours": args.flash_sale_hours,
    }


@dataclass
class FaultRule:
    """Answer the next ``times`` requests matching ``method`` and the ``path`` regex with ``status``.

    ``after_write=True`` runs the operation first (the write happens) and then answers ``status`` — the response was
    lost after the write. ``drop_connection=True`` closes the socket without any response instead. ``delay_s`` sleeps
    before answering. ``status=None`` (only useful with ``after_write=True``) keeps the real answer, so
    ``FaultRule(..., status=None, after_write=True, delay_s=5)`` is a slow success that makes a client time out.
    ``method="*"`` matches every method. ``barrier`` holds each matching answer (after ``delay_s``) until as many
    requests as the barrier has parties are held, then releases them together: with ``status=None, after_write=True``
    and ``times=n``, n readers all read the same state before any of them sees it — a race made certain without
    waiting on the clock.
    """

    method: str
    path: str
    status: int | None = 500
    times: int = 1
    after_write: bool = False
    drop_connection: bool = False
    delay_s: float = 0.0
    barrier: threading.Barrier | None = field(default=None, repr=False)

    def hold(self) -> None:
        """Wait at the barrier, if any (given up after 10 s: a test that miscounted must not hang)."""
        if self.barrier is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.wait(timeout=10)

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path)
        if self.status is None and not self.after_write and not self.drop_connection:
            raise ValueError("a FaultRule with status=None must have after_write=True or drop_connection=True")

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method.upper() == method.upper()) and bool(self._regex.search(path))


class FaultRules:
    """The fault rules of one sandbox. Thread-safe; a rule is consumed one match at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> FaultRule:
        if rule.times < 1:
            raise ValueError("FaultRule.times must be at least 1")
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching the request, with one of its ``times`` used up; None when none matches."""
        with self._lock:
            for i, rule in enumerate(self._rules):
                if rule.matches(method, path):
                    rule.times -= 1
                    if rule.times <= 0:
                        del self._rules[i]
                    return rule
        return None

    @property
    def pending(self) -> list[FaultRule]:
        """Rules not used up yet (a copy)."""
        with self._lock:
            return list(self._rules)

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)
