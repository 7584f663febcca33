"""``refundkit doctor``'s verdicts: what VTEX's answers mean, one report row each.

The probes (:mod:`refundkit.doctor.probes`) ask the account and keep each answer as an :class:`_Outcome`; the functions
here read those outcomes and say, in plain words, what refundkit concludes and what to fix. Nothing here calls VTEX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import NetworkError, PermissionDenied, RefundkitError, VtexError
from ..ledger.verdict import SCRATCH_ENTITY, MasterDataVerdict
from ..money import VTEX_AMOUNT_MODES, AmountError, Money, currency_exponent, from_vtex_cents
from ..statuses import status_label
from ..timeutil import Instant, clock_skew, parse_instant
from ..vtex import Order, OrderSummary
from .report import Check, Status
from .searchvalues import SEARCH_ROWS
from .vtexvalues import LATER_ROWS

LIST_ORDERS = "OMS > OMS access > List Orders"
VIEW_ORDER = "OMS > OMS access > View order"
MD_READ = "Dynamic Storage > Dynamic storage generic resources > Read only documents"
MD_WRITE = "Dynamic Storage > Dynamic storage generic resources > Insert or update document (not remove)"
MD_ADMIN = "Dynamic Storage > Dynamic storage generic resources > Master Data administrator"

#: License Manager resources that let a key move money (refund, cancel, change or invoice). refundkit needs none.
MONEY_MOVING_RESOURCES = (
    "OMS > OMS access > Notify invoice",
    "OMS > OMS access > Notify refund",
    "OMS > OMS access > Cancel order",
    "OMS > OMS access > Change order",
    "Checkout > CheckoutResources > Orders Full Access",
    "PCI Gateway > Payment-Make Payments > Process payments",
)


@dataclass
class _Outcome:
    """A probe call: its value, or the VTEX error it ended in."""

    value: Any = None
    error: VtexError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def denied(self) -> bool:
        return isinstance(self.error, PermissionDenied)


# -- rows built from probe outcomes -------------------------------------------------------------------------------

_STATUSES_TITLE = "Order statuses seen"
_PERMISSIONS = [
    ("perm.oms-list", "Permission: list orders"),
    ("perm.oms-view", "Permission: view an order"),
    ("perm.md-read", "Permission: read Master Data documents"),
    ("perm.md-write", "Permission: write Master Data documents"),
    ("perm.md-admin", "Permission: Master Data administrator (setup only)"),
    ("perm.payments", "Permission: view payment data (optional)"),
    ("perm.money", "No role that moves money"),
]
_LATER = [
    ("schemas", "Ledger schemas"),
    ("read-your-writes", "Master Data read-your-writes by id"),
    ("cw.condition", "Conditional writes: a false _where"),
    ("cw.missing", "Conditional writes: _where on a missing document"),
    ("exactly-once", "Exactly once on this account"),
    ("search-lag", "Master Data search lag"),
    *SEARCH_ROWS,
    ("oms-list", "OMS order list"),
    ("clock", "This computer's clock against VTEX's"),
    ("orders-api", "Orders API: classic or PII data architecture"),
    ("list-rows", "Order list rows: dates and return invoices"),
    ("statuses", _STATUSES_TITLE),
    ("amounts", "Amounts of one real order"),
    ("notes", "Order notes (Do): list shape and lag"),
    *LATER_ROWS,
]


def _statuses_check(
    total: int,
    counts: dict[str, int],
    named: dict[str, int],
    groups: list[tuple[tuple[str, ...], int]],
    days: int,
) -> Check:
    """The row of :meth:`Doctor._statuses`: every status seen, those refundkit does not know named with their
    counts, and whether one ``f_status`` naming several statuses counts their sum (the sync's checks rely on it)."""
    known = sum(counts.values())
    unknown_total = max(total - known, 0)
    unnamed = max(unknown_total - sum(named.values()), 0)
    by_count = [(s, n) for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n]
    seen = ", ".join(f"{s} {n:,}" for s, n in by_count[:6]) + (
        f", {len(by_count) - 6} more" if len(by_count) > 6 else ""
    )
    odd = [f"{','.join(g)} counts {n:,}, its statuses one by one {sum(counts[s] for s in g):,}" for g, n in groups]
    odd = [o for (g, n), o in zip(groups, odd, strict=True) if n != sum(counts[s] for s in g)]
    figures = {
        "days": days,
        "total": total,
        "by_status": {s: n for s, n in counts.items() if n},
        "unknown": dict(named),
        "unknown_unnamed": unnamed,
        "several_statuses_in_one_filter": not odd,
    }
    head = f"last {days} days: {total:,} orders" + (f" ({seen})" if seen else "")
    if unknown_total:
        names = ", ".join(f"{status_label(s)} {n:,}" for s, n in named.items())
        if unnamed:
            names += (", and " if names else "") + f"{unnamed:,} whose status the latest orders did not show"
        return Check(
            "statuses",
            _STATUSES_TITLE,
            Status.WARN,
            f"{unknown_total:,} order(s) have a status refundkit does not know ({names}); {head}",
            "refundkit lists these orders and counts them in gross (the README's status table says why); check what "
            "the status means in the VTEX Admin, and if such orders are not sales, report it to refundkit's "
            "maintainers",
            figures,
        )
    if odd:
        return Check(
            "statuses",
            _STATUSES_TITLE,
            Status.WARN,
            f"one status filter naming several statuses does not count their sum ({'; '.join(odd)}); {head}",
            "the sync's status checks rely on it: run `refundkit sync --refresh` before a report you rely on, and "
            "report this to refundkit's maintainers",
            figures,
        )
    return Check("statuses", _STATUSES_TITLE, Status.PASS, f"every status is one refundkit knows; {head}", "", figures)


def _credentials(probes: list[_Outcome]) -> Check:
    if any(not p.denied and not isinstance(p.error, NetworkError) for p in probes):
        return Check("credentials", "App key and token", Status.PASS, "VTEX accepted them")
    return Check(
        "credentials",
        "App key and token",
        Status.FAIL,
        "VTEX answered 403 to every call: the key holds none of the resources below, or VTEX blocks this "
        "machine's IP address (it answers 403 then too)",
        "in License Manager, give the key's role the resources listed in the README; if it has them, run doctor "
        "from another network or ask VTEX support whether this IP is blocked",
    )


def _permission(key: str, title: str, outcome: _Outcome, resource: str) -> Check:
    if outcome.denied:
        return Check(
            key, title, Status.FAIL, "VTEX denied it (403)", f"give the app key's role the resource '{resource}'"
        )
    if outcome.ok:
        return Check(key, title, Status.PASS, "allowed")
    return Check(
        key,
        title,
        Status.FAIL,
        f"the probe failed: {outcome.error}",
        "run doctor again; if it persists, check VTEX's status page",
    )


def _write_permission(ryw: _Outcome) -> Check:
    return _permission("perm.md-write", "Permission: write Master Data documents", ryw, MD_WRITE)


def _admin_permission(admin: _Outcome, schemas_current: bool) -> Check:
    key, title = "perm.md-admin", "Permission: Master Data administrator (setup only)"
    if admin.denied:
        if schemas_current:
            return Check(key, title, Status.PASS, "not held, and not needed: the ledger's schemas are saved")
        return Check(
            key,
            title,
            Status.FAIL,
            "not held, and the ledger's schemas are not saved",
            f"give the key '{MD_ADMIN}', run `refundkit setup`, then remove it again",
        )
    if admin.ok:
        return Check(
            key,
            title,
            Status.WARN,
            f"held (a schema was saved on the scratch entity {SCRATCH_ENTITY})",
            "only `refundkit setup` needs it, and it also lets the key delete ledger documents: remove it after setup",
        )
    return Check(key, title, Status.FAIL, f"the probe failed: {admin.error}", "run doctor again")


def _money_roles() -> Check:
    return Check(
        "perm.money",
        "No role that moves money",
        Status.WARN,
        "cannot be checked with this key: VTEX shows a key's roles only to keys allowed to read License Manager, "
        "which refundkit's key must not be",
        "in License Manager > Roles, check that no role of this key holds "
        + ", ".join(r.rsplit(" > ", 1)[1] for r in MONEY_MOVING_RESOURCES),
        {"resources_to_avoid": list(MONEY_MOVING_RESOURCES)},
    )


def _read_your_writes(ryw: _Outcome, scratch_schema_missing: bool) -> Check:
    key, title = "read-your-writes", "Master Data read-your-writes by id"
    if not ryw.ok:
        return Check(
            key, title, Status.SKIPPED, "not run: writing the scratch document failed", "fix the permission above"
        )
    seen: dict[str, Any] = ryw.value
    if seen.get("created") and seen.get("updated"):
        return Check(
            key, title, Status.PASS, f"a created and an updated document of {SCRATCH_ENTITY} read back at once by id"
        )
    which = "a new document" if not seen.get("created") else "an update"
    if scratch_schema_missing:
        return Check(
            key,
            title,
            Status.FAIL,
            f"reading by id right after writing did not return {which}, on a scratch entity without the schema that "
            "turns VTEX's cache off as the ledger's schemas do",
            "run `refundkit setup` (it saves that schema), then doctor again",
            dict(seen),
        )
    return Check(
        key,
        title,
        Status.FAIL,
        f"reading by id right after writing did not return {which}",
        "do not record refunds on this account: exactly-once needs reads by id to see the last write; ask VTEX "
        "support about Master Data caching (v-cache)",
        dict(seen),
    )


def _condition_row(key: str, title: str, v: MasterDataVerdict) -> Check:
    figures = {"failed_condition_status": v.failed_condition_status}
    if not v.conditions_honoured:
        return Check(
            key,
            title,
            Status.FAIL,
            f"ignored: a write under a false condition was applied (VTEX answered {v.failed_condition_status})",
            "two recorders at once could overwrite each other here: refundkit refuses to record (see below)",
            figures,
        )
    if not v.holding_condition_applied:
        return Check(
            key,
            title,
            Status.FAIL,
            "a write under a true condition was not applied",
            "refundkit cannot append to an order's ledger here and refuses to record (see below)",
            figures,
        )
    return Check(
        key,
        title,
        Status.PASS,
        f"honoured: it changed nothing, answered {v.failed_condition_status} (refundkit decides by reading back, "
        "never by the status); a true one applied",
        figures=figures,
    )


def _missing_row(key: str, title: str, v: MasterDataVerdict) -> Check:
    figures = {"missing_document": v.missing_document}
    if v.missing_document == "refused":
        return Check(
            key,
            title,
            Status.FAIL,
            "refused, even `version is null`: an order's first refund could only be written unconditionally",
            "refundkit refuses to record here rather than risk overwriting another recorder's refund (see below)",
            figures,
        )
    how = (
        "ignored: the document was created"
        if v.missing_document == "created"
        else "evaluated against an empty document: `version is null` holds"
    )
    return Check(
        key,
        title,
        Status.PASS,
        f"{how}; an order's first entry is created under `version is null` and read back",
        figures=figures,
    )


def _listing(listing: _Outcome) -> Check:
    key, title = "oms-list", "OMS order list"
    if not listing.ok:
        return Check(
            key,
            title,
            Status.SKIPPED if listing.denied else Status.FAIL,
            f"no list: {listing.error}",
            "fix the permission above" if listing.denied else "run doctor again",
        )
    body = listing.value
    rows = body.get("list") if isinstance(body, dict) else None
    paging = body.get("paging") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not isinstance(paging, dict) or not isinstance(paging.get("total"), int):
        return Check(
            key,
            title,
            Status.FAIL,
            "the order list lacks 'list' or 'paging.total'",
            "report this answer to refundkit's maintainers",
        )
    incomplete = [str(r.get("orderId")) for r in rows if isinstance(r, dict) and r.get("orderIsComplete") is False]
    if incomplete:
        return Check(
            key,
            title,
            Status.FAIL,
            f"incompleteOrders=false was ignored: incomplete order(s) {', '.join(incomplete[:3])} listed",
            "do not trust gross revenue from refundkit on this account until this is resolved with VTEX support",
        )
    unreadable = []
    for r in rows:
        try:
            OrderSummary.from_vtex(r)
        except (RefundkitError, AmountError, ValueError, TypeError, AttributeError) as exc:
            unreadable.append(f"{(r or {}).get('orderId') if isinstance(r, dict) else r}: {exc}")
    figures = {"rows": len(rows), "total": paging["total"]}
    if unreadable:
        return Check(
            key,
            title,
            Status.WARN,
            f"{len(unreadable)} of {len(rows)} listed orders unreadable, e.g. {unreadable[0]}",
            "these orders will be set aside in listings and reports; check them in the VTEX Admin",
            figures,
        )
    return Check(
        key,
        title,
        Status.PASS,
        f"one page read: {len(rows)} of {paging['total']:,} orders, incompleteOrders=false honoured",
        figures=figures,
    )


def _clock(vtex_ns: int | None, ours: Instant) -> Check:
    """A sync counts as covered only what VTEX's clock (its answers' Date) had reached: say how far ours is off."""
    key, title = "clock", "This computer's clock against VTEX's"
    if vtex_ns is None:
        return Check(
            key,
            title,
            Status.SKIPPED,
            "not compared: VTEX's answer carried no Date header (a proxy may remove it); syncs count as covered what "
            "the newest order listed shows, and list a little more again each time",
            "if a proxy sits in front of VTEX, let it pass the Date header, then run doctor again",
        )
    figures = {"vtex": Instant(vtex_ns).isoformat(0), "ours": ours.isoformat(0)}
    skew = clock_skew(ours.ns, vtex_ns)
    if skew:
        return Check(
            key,
            title,
            Status.WARN,
            f"{skew} (VTEX says {figures['vtex']})",
            "set this computer's clock (NTP); meanwhile syncs count as covered only what VTEX's clock had reached",
            figures,
        )
    return Check(key, title, Status.PASS, "within a few minutes of VTEX's (its answers' Date)", figures=figures)


def _list_readable(listing: _Outcome) -> bool:
    body = listing.value if listing.ok else None
    paging = body.get("paging") if isinstance(body, dict) else None
    return (
        isinstance(body, dict) and isinstance(body.get("list"), list) and isinstance((paging or {}).get("total"), int)
    )


def _architecture(classic: _Outcome, pii: _Outcome) -> str | None:
    """``classic`` when the classic order list reads back as a list; ``pii`` when it does not answer (refused,
    redirected or not found: VTEX does not say how) while the PII data architecture's list reads back as one; None
    when neither does (the permission rows say why). Decided by what reads back, never by one status."""
    if _list_readable(classic):
        return "classic"
    if not classic.ok and _list_readable(pii):
        return "pii"
    return None


_PII_MEANS = (
    "refundkit reads its orders through GET /api/orders/pvt/document/{id} and POST /api/orders/extendsearch/orders "
    "(read only), and customer data comes masked{masked}, which refundkit does not need"
)


def _orders_api(
    architecture: str | None, classic: _Outcome, pii: _Outcome, order: _Outcome, configured_pii: bool
) -> Check:
    """Whether the account is on VTEX's PII data architecture, and whether ``REFUNDKIT_PII_ARCHITECTURE`` says so."""
    key, title = "orders-api", "Orders API: classic or PII data architecture"
    setting = f"REFUNDKIT_PII_ARCHITECTURE={'on' if configured_pii else 'off'}"
    figures = {"architecture": architecture, "setting": "on" if configured_pii else "off"}
    if architecture is None:
        return Check(
            key,
            title,
            Status.SKIPPED,
            f"not told: neither order list answered (classic: {classic.error}; PII data architecture: {pii.error})",
            "fix the permission rows above, then run doctor again",
            figures,
        )
    if architecture == "classic":
        if not configured_pii:
            return Check(
                key, title, Status.PASS, "classic: the OMS order endpoints answer (not the PII data architecture)"
            )
        if _list_readable(pii):
            return Check(
                key,
                title,
                Status.PASS,
                f"both answer; {setting}, so refundkit reads orders through the PII data architecture's endpoints",
                figures=figures,
            )
        return Check(
            key,
            title,
            Status.FAIL,
            f"{setting}, but the PII data architecture's order list does not answer ({pii.error}); the classic one "
            "does",
            "set REFUNDKIT_PII_ARCHITECTURE=off: this account is not on VTEX's PII data architecture",
            figures,
        )
    body = order.value if order.ok and isinstance(order.value, dict) else {}
    read = f", order {body.get('orderId')} read back through it" if body.get("orderId") else ""
    masked = " (piiHidden)" if body.get("piiHidden") is True else ""
    refused = f"VTEX answered {classic.error.status}" if classic.error and classic.error.status else "no answer"
    result = (
        f"on VTEX's PII data architecture: the classic order list does not answer ({refused}), the PII one "
        f"does{read}. So {_PII_MEANS.replace('{masked}', masked)}"
    )
    if configured_pii:
        return Check(key, title, Status.PASS, result, figures=figures)
    return Check(
        key,
        title,
        Status.FAIL,
        result,
        "set REFUNDKIT_PII_ARCHITECTURE=on (in the environment or .env): until then refundkit cannot read this "
        "account's orders",
        figures,
    )


def _list_rows(listing: _Outcome, order: _Outcome, order_id: str | None, returned: _Outcome) -> Check:
    """What VTEX leaves open about list rows, as this account answers: how exact ``creationDate`` is (a row against
    the same order read by id, which carries 7 decimals) and whether rows name return invoices (``invoiceInput``,
    not in the ListOrders schema) — looked at on orders the ``f_hasInputInvoice=true`` listing says have one."""
    key, title = "list-rows", "Order list rows: dates and return invoices"
    rows = listing.value.get("list") if listing.ok and isinstance(listing.value, dict) else None
    if not isinstance(rows, list):
        return Check(key, title, Status.SKIPPED, "no order list to look at", "fix the rows above")
    dates, date_text, figures = _date_precision([r for r in rows if isinstance(r, dict)], order, order_id)
    invoices, invoice_text, invoice_order = _invoice_field(returned)
    figures.update(dates=dates, invoice_input=invoices, return_invoice_order=invoice_order)
    result = (
        f"{date_text}; {invoice_text}. refundkit cuts every range on a whole second, so no order falls between two "
        "ranges whichever precision rows carry, and learns which orders have return invoices from the "
        "f_hasInputInvoice=true listing, never from invoiceInput alone"
    )
    if dates == "different":
        return Check(
            key,
            title,
            Status.WARN,
            result,
            "report this to refundkit's maintainers: a list row dated other than its order may be listed in the "
            "range next to the right one",
            figures,
        )
    return Check(key, title, Status.PASS, result, figures=figures)


def _date_precision(
    rows: list[dict[str, Any]], order: _Outcome, order_id: str | None
) -> tuple[str, str, dict[str, Any]]:
    """("exact" | "seconds" | "<n> decimals" | "different" | "unknown", the verdict in words, figures)."""
    row = next((r for r in rows if r.get("orderId") == order_id), None)
    listed = row.get("creationDate") if row else None
    read = order.value.get("creationDate") if order.ok and isinstance(order.value, dict) else None
    figures: dict[str, Any] = {"order_id": order_id, "list_creation_date": listed, "order_creation_date": read}
    try:
        a, b = parse_instant(str(listed)), parse_instant(str(read))
    except ValueError:
        return "unknown", "list rows' date precision unknown (no order could be compared with its list row)", figures
    seen = f"order {order_id}: {listed} on the list, {read} read by id"
    fraction = re.search(r"\.(\d+)", str(listed))
    digits = len(fraction.group(1)) if fraction else 0
    if a.ns == b.ns and (b.ns % 1_000_000_000 or digits):
        return "exact", f"list rows date orders as exactly as the order itself ({seen})", figures
    if a.ns == b.ns:
        return (
            "unknown",
            f"list rows' date precision not told apart: the order was placed on a whole second ({seen})",
            figures,
        )
    if digits < 7 and a.ns <= b.ns < a.ns + 10 ** (9 - digits):
        what = "whole seconds" if digits == 0 else f"{digits} decimals"
        return (
            ("seconds" if digits == 0 else f"{digits} decimals"),
            f"list rows date orders in {what}, truncated ({seen})",
            figures,
        )
    return "different", f"a list row's date differs from its order's ({seen})", figures


def _invoice_field(returned: _Outcome) -> tuple[str, str, str | None]:
    """("present" | "absent" | "null" | "empty" | "unknown", the verdict in words, the order looked at)."""
    body = returned.value if returned.ok and isinstance(returned.value, dict) else None
    rows = [r for r in (body or {}).get("list") or [] if isinstance(r, dict)]
    if body is None:
        return "unknown", "whether list rows name return invoices is unknown (no f_hasInputInvoice listing)", None
    if not rows:
        return "unknown", "whether list rows name return invoices is not told apart: no order has one yet", None
    row = rows[0]
    oid = str(row.get("orderId"))
    name = "invoiceInput" if "invoiceInput" in row or "invoicesInput" not in row else "invoicesInput"
    if name not in row:
        return "absent", f"list rows carry no invoiceInput, even order {oid}, which has a return invoice", oid
    value = row[name]
    if value is None:
        return "null", f"list rows carry invoiceInput null, even order {oid}, which has a return invoice", oid
    if value in ("", []) or (isinstance(value, list) and not [v for v in value if v not in (None, "")]):
        return "empty", f"list rows carry invoiceInput empty, even order {oid}, which has a return invoice", oid
    return "present", f"list rows name return invoices in {name} (order {oid})", oid


def _amounts(order: _Outcome, order_id: str | None, mode: str) -> Check:
    """One real order's value as VTEX sent it and as refundkit reads it (``mode``: REFUNDKIT_ZERO_DECIMAL_AMOUNTS)."""
    key, title = "amounts", "Amounts of one real order"
    if order_id is None:
        return Check(
            key, title, Status.SKIPPED, "no order listed to show", "run doctor again once the account has an order"
        )
    if not order.ok or order.value is None:
        return Check(key, title, Status.SKIPPED, f"order {order_id} could not be read", "fix the permission above")
    body: dict[str, Any] = order.value
    prefs = body.get("storePreferencesData") or {}
    digits = (prefs.get("currencyFormatInfo") or {}).get("CurrencyDecimalDigits")
    raw_value: Any = body.get("value")
    currency = str(prefs.get("currencyCode") or body.get("currencyCode") or "")
    readings: dict[str, str] = {}
    for m in VTEX_AMOUNT_MODES:
        try:
            readings[m] = str(Money(from_vtex_cents(raw_value, currency, m), currency))
        except (AmountError, ValueError, TypeError):
            continue
    try:
        parsed = Order.from_vtex(body, mode=mode)
    except (RefundkitError, AmountError, ValueError) as exc:
        other = [m for m in readings if m != mode]
        action = (
            f"if order {order_id}'s total in the VTEX Admin is {readings[other[0]]}, set "
            f"REFUNDKIT_ZERO_DECIMAL_AMOUNTS={other[0]}; otherwise report this order to refundkit's maintainers"
            if other
            else "report this order's JSON (without personal data) to refundkit's maintainers"
        )
        return Check(key, title, Status.FAIL, f"order {order_id} cannot be read: {exc}", action)
    parts = ", ".join(f"{k} {v}" for k, v in parsed.totals.items())
    result = f"order {order_id}: VTEX sent value {raw_value} ({parts or 'no totals'}); refundkit reads {parsed.total}"
    figures = {
        "order_id": order_id,
        "currency": parsed.currency,
        "vtex_value": raw_value,
        "refundkit_minor": parsed.total.minor,
        "currency_decimal_digits": digits,
        "zero_decimal_amounts": mode,
    }
    exponent = currency_exponent(parsed.currency)
    if exponent != 2 or (isinstance(digits, int) and digits != exponent):
        other = [m for m in readings if m != mode and readings[m] != str(parsed.total)]
        alternative = f"; if it is {readings[other[0]]}, set REFUNDKIT_ZERO_DECIMAL_AMOUNTS={other[0]}" if other else ""
        return Check(
            key,
            title,
            Status.WARN,
            f"{result}, reading {parsed.currency} amounts as {mode} (REFUNDKIT_ZERO_DECIMAL_AMOUNTS; VTEX does not "
            "say which it sends)",
            f"open order {order_id} in the VTEX Admin and confirm its total is {parsed.total}{alternative}",
            figures,
        )
    return Check(key, title, Status.PASS, result + " (cents, as VTEX documents)", figures=figures)


def _not_yet(miss: float, hit: float) -> str:
    return f" (not yet at {miss:.1f} s)" if 0 < miss < hit else ""


def _newest_created(body: Any) -> Instant | None:
    """The creation date of the first row of a list sorted newest first (None when it has none readable)."""
    rows = body.get("list") if isinstance(body, dict) else None
    first = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
    try:
        return parse_instant(first["creationDate"]).ceil_ms() if first.get("creationDate") else None
    except (ValueError, TypeError):
        return None


def _first_order_id(body: Any) -> str | None:
    rows = body.get("list") if isinstance(body, dict) else None
    for r in rows or []:
        if isinstance(r, dict) and isinstance(r.get("orderId"), str):
            return str(r["orderId"])
    return None


def _notes_shape(body: Any) -> str:
    """What is wrong with a notes list answer, or "" when refundkit can read it."""
    if not isinstance(body, dict):
        return f"a {type(body).__name__}, not an object"
    items = body.get("items")
    if not isinstance(items, list):
        return f"no 'items' list (keys: {', '.join(sorted(body)) or 'none'})"
    for n in items:
        if not isinstance(n, dict) or not n.get("id") or not isinstance(n.get("description"), str):
            return "a note without 'id' or 'description'"
    return ""


def _notes_total(body: dict[str, Any]) -> int:
    paging = body.get("paging") or {}
    total = paging.get("total") if isinstance(paging, dict) else None
    return total if isinstance(total, int) else len(body.get("items") or [])
