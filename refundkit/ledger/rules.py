"""Validation rules for a proposed refund. Pure functions: every problem is collected, each says what to fix.

This is the one place refund input is checked, wherever it comes from (the desk's forms, a CSV import, the command
line, a notebook): :func:`check_refund` checks everything that needs no order (the order id, source, reference,
texts, date, currency), :func:`build_quote` the rest against the order and its ledger; :func:`require_order_id` is
the order-id rule alone, refusing as a refund is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..errors import RefundkitError
from ..money import AmountError, Money, parse_amount
from ..statuses import refund_refusal
from ..storetime import day_instant, order_time_zone
from ..textsafety import clip, control_problem
from ..timeutil import Instant, parse_instant
from ..vtex.models import Order
from ..vtex.oms import check_order_id
from .items import ItemPick, order_items, parse_pick, plan_lines
from .model import (
    KNOWN_SOURCES,
    EntryKind,
    LedgerEntry,
    OrderLedger,
    Quote,
    RefundLine,
    RefundRefused,
    strip_format,
)

__all__ = [
    "CLOCK_SKEW",
    "MAX_NOTE",
    "MAX_OFFLINE_FACTOR",
    "MAX_REASON",
    "MAX_REF",
    "TEXT_CONTROLS_ALLOWED",
    "RefundInput",
    "boleto_return_rule",
    "build_quote",
    "check_input",
    "check_refund",
    "clean_text",
    "order_id_problem",
    "require_order_id",
    "text_problem",
]

MAX_REASON = 500
MAX_NOTE = 1000
MAX_REF = 100
#: How far in the future a refunded-at may lie before it is refused (clocks disagree a little).
CLOCK_SKEW = timedelta(minutes=5)
#: An order's offline refunds, net of reversals, may reach at most this multiple of its total, even when an
#: over-refund is allowed: beyond it an amount is a typo, not a refund.
MAX_OFFLINE_FACTOR = 2
#: Line breaks and tabs are text in a reason or a note (a form's text area); every other control character is not.
TEXT_CONTROLS_ALLOWED = "\t\n\r"
#: Format characters that carry meaning in free text (joiners in emoji and in Persian or Indic words).
_TEXT_FORMAT_KEPT = "\u200c\u200d"


class RefundInput:
    """A refund as a person or a CSV row gave it: text, not yet trusted."""

    __slots__ = (
        "allow_over_refund",
        "amount",
        "currency",
        "external_ref",
        "items",
        "note",
        "order_id",
        "over_refund_reason",
        "reason",
        "refunded_at",
        "restock",
        "shipping",
        "source",
    )

    def __init__(
        self,
        order_id: str,
        amount: str | int | Decimal | Money | None,
        source: str,
        external_ref: str,
        *,
        reason: str = "",
        note: str = "",
        refunded_at: str | Instant | date | None = None,
        currency: str | None = None,
        allow_over_refund: bool = False,
        over_refund_reason: str = "",
        items: Sequence[ItemPick | str] = (),
        shipping: Any = None,
        restock: bool | None = None,
    ) -> None:
        self.order_id = order_id
        self.amount = amount
        self.source = source
        self.external_ref = external_ref
        self.reason = reason or ""
        self.note = note or ""
        self.refunded_at = refunded_at
        self.currency = currency
        self.allow_over_refund = allow_over_refund
        self.over_refund_reason = over_refund_reason or ""
        #: refunds by item: the units asked for (``346:2`` or :class:`ItemPick`), the shipping (None: none; True or
        #: "": what is left of it; an amount: that much) and whether the goods go back to stock (None: not said)
        self.items = tuple(items or ())
        self.shipping = shipping
        self.restock = restock

    @property
    def by_item(self) -> bool:
        """Whether the refund names items or shipping (else it is an amount only, as before)."""
        return bool(self.items) or (self.shipping is not None and self.shipping is not False)

    def __repr__(self) -> str:
        return (
            f"RefundInput(order_id={self.order_id!r}, amount={self.amount!r}, source={self.source!r}, "
            f"external_ref={self.external_ref!r})"
        )


def check_source(source: str, extra_sources: Iterable[str] = ()) -> tuple[str | None, str | None]:
    """(normalised source, problem)."""
    s = strip_format(source or "").strip().lower().replace("_", "-").replace(" ", "-")
    allowed = tuple(KNOWN_SOURCES) + tuple(x.strip().lower() for x in extra_sources if x.strip())
    if not s:
        return None, f"source is missing: use one of {', '.join(allowed)}"
    if s not in allowed:
        return None, (
            f"unknown source {clip(source)}: use one of {', '.join(allowed)} (or add it to REFUNDKIT_EXTRA_SOURCES)"
        )
    return s, None


def text_problem(label: str, value: object, limit: int, required: bool = False, allowed: str = "") -> str | None:
    """The problem with a free-text field (not text, missing, too long, control characters), or None."""
    if not isinstance(value, str):
        return f"{label} must be text"
    if required and not value.strip():
        return f"{label} is missing"
    if len(value) > limit:
        return f"{label} is {len(value)} characters long; shorten it to at most {limit}"
    return control_problem(label, value, allowed)


def clean_text(text: str | None) -> str:
    """A reason or a note as it is kept: invisible format characters removed (joiners kept), ends stripped."""
    return strip_format(text or "", keep=_TEXT_FORMAT_KEPT).strip()


def check_input(
    raw: RefundInput, *, now: Instant, extra_sources: Iterable[str] = (), store_tz: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Checks that need no order: source, reference, texts, date, over-refund reason. Returns (clean, problems).

    Invisible characters: format characters (Unicode category Cf: zero-width space, byte-order mark, soft hyphen,
    direction marks) are removed from the reference and the source, so ``ref-1\u200b`` is ``ref-1``; control
    characters (Cc) are refused everywhere, except line breaks and tabs in a reason or a note.

    A refunded-at without a time (``2026-03-01`` or a :class:`~datetime.date`) means that day in the store's time
    zone: ``store_tz`` when given (``REFUNDKIT_STORE_TZ``), else the zone VTEX gives on the order. It is resolved by
    :func:`build_quote`, which knows the order (see :func:`refundkit.storetime.day_instant`).
    """
    problems: list[str] = []
    clean: dict[str, Any] = {"now": now, "store_tz": store_tz, "refunded_day": None}
    source, p = check_source(raw.source, extra_sources)
    if p:
        problems.append(p)
    clean["source"] = source
    ref = strip_format(raw.external_ref or "").strip() if isinstance(raw.external_ref, str) else raw.external_ref
    p = text_problem("external reference", ref, MAX_REF, required=True)
    if p:
        problems.append(p + (" (the third party's refund id or a receipt number)" if "missing" in p else ""))
    clean["external_ref"] = ref
    for label, value, limit in (("reason", raw.reason, MAX_REASON), ("note", raw.note, MAX_NOTE)):
        p = text_problem(label, value, limit, allowed=TEXT_CONTROLS_ALLOWED)
        if p:
            problems.append(p)
    clean["reason"] = clean_text(raw.reason)
    clean["note"] = clean_text(raw.note)
    when = raw.refunded_at
    if when is None or (isinstance(when, str) and not when.strip()):
        clean["refunded_at"] = now
    elif isinstance(when, Instant):
        clean["refunded_at"] = when
    elif isinstance(when, datetime):
        try:
            clean["refunded_at"] = Instant.from_datetime(when)
        except ValueError as exc:
            clean["refunded_at"] = None
            problems.append(f"refunded-at: {exc}")
    elif isinstance(when, date):
        clean["refunded_at"], clean["refunded_day"] = None, when
    else:
        try:
            text = when.strip()
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                clean["refunded_at"], clean["refunded_day"] = None, date.fromisoformat(text)
            else:
                clean["refunded_at"] = parse_instant(text)
        except (ValueError, AttributeError):
            clean["refunded_at"] = None
            problems.append(
                f"refunded-at {clip(when)} is not a date: use ISO 8601 such as 2026-03-01 or 2026-03-01T14:30:00-03:00"
            )
    if clean.get("refunded_at") is not None and clean["refunded_at"].ns > (now + CLOCK_SKEW).ns:
        problems.append(
            f"refunded-at {clean['refunded_at'].isoformat(digits=0)} is in the future; "
            "give the date the money went back"
        )
    if raw.allow_over_refund and not raw.over_refund_reason.strip():
        problems.append("an over-refund needs a reason: say why more than the refundable balance went back")
    p = text_problem("over-refund reason", raw.over_refund_reason, MAX_REASON, allowed=TEXT_CONTROLS_ALLOWED)
    if p:
        problems.append(p)
    if raw.currency is not None and raw.currency.strip() and not re.fullmatch(r"[A-Za-z]{3}", raw.currency.strip()):
        problems.append(f"currency {clip(raw.currency)} is not a three-letter code such as BRL")
    picks: list[ItemPick] = []
    for pick in raw.items:
        try:
            picks.append(parse_pick(pick))
        except RefundRefused as exc:
            problems.extend(exc.problems)
    clean["picks"] = tuple(picks)
    restock: object = raw.restock  # typed bool | None, but a notebook may pass anything
    if restock is not None and not isinstance(restock, bool):
        problems.append("restock must be yes or no (--restock or --no-restock)")
    return clean, problems


def order_id_problem(order_id: str) -> tuple[str | None, str | None]:
    """(the order id, trimmed; or None and the problem with it)."""
    try:
        return check_order_id(order_id), None
    except RefundkitError as exc:
        return None, str(exc)


def require_order_id(order_id: str) -> str:
    """The order id, trimmed; :class:`RefundRefused` (nothing written) when it is not one."""
    oid, problem = order_id_problem(order_id)
    if problem is not None:
        raise RefundRefused([problem])
    assert oid is not None
    return oid


#: What a CSV row without a refunded-at is told (a file says when each refund was made; a form or a command means now).
DATE_REQUIRED = "refunded_at is empty: give the date the money went back (2026-03-01)"


def check_refund(
    raw: RefundInput,
    *,
    now: Instant,
    extra_sources: Iterable[str] = (),
    store_tz: str | None = None,
    date_required: bool = False,
) -> tuple[str | None, dict[str, Any], list[str]]:
    """Every check of a refund that needs no order: (the order id or None, the clean input, every problem).

    The order id's problem comes first; then :func:`check_input`'s. ``date_required`` (a CSV row) refuses an empty
    refunded-at instead of reading it as now, and says only that, as a row without its date is not checked further.
    """
    oid, problem = order_id_problem(raw.order_id)
    empty = raw.refunded_at is None or (isinstance(raw.refunded_at, str) and not raw.refunded_at.strip())
    if date_required and empty:
        return oid, {}, [DATE_REQUIRED]
    clean, problems = check_input(raw, now=now, extra_sources=extra_sources, store_tz=store_tz)
    return oid, clean, ([problem] if problem else []) + problems


def other_currency(raw: RefundInput, currency: str) -> str | None:
    """The currency ``raw`` names when it is not ``currency`` (upper case), else ``None``."""
    named = (raw.currency or "").strip().upper()
    return named if named and named != currency else None


def parse_refund_amount(raw: RefundInput, currency: str) -> tuple[Money | None, str | None]:
    if isinstance(raw.amount, Money):
        if raw.amount.currency != currency:
            return None, f"amount is in {raw.amount.currency} but the order is in {currency}"
        m = raw.amount
    else:
        if raw.amount is None or (isinstance(raw.amount, str) and not raw.amount.strip()):
            return None, "amount is missing: give the amount that went back, such as 12.34"
        try:
            m = Money(parse_amount(raw.amount, currency), currency)
        except AmountError as exc:
            return None, f"amount: {exc}"
    if m.minor <= 0:
        return None, f"amount must be more than zero (got {m.decimal_str()}); to undo a refund, reverse it"
    return m, None


def boleto_return_rule(order: Order) -> str | None:
    """Why an offline refund on this order is probably a boleto return counted twice, or None.

    When a boleto (``bankInvoice``) order gets a return invoice, VTEX counts the refund (the invoice) but cannot
    send boleto money back: the merchant pays the customer by hand. That manual transfer *is* the return invoice's
    money. So on a boleto-paid order with return invoices whose refunds the gateway did not make itself (when the
    transaction was read and its refunds cover the invoices, the money went back through VTEX and this rule stays
    silent), a new offline refund is refused unless the person allows it explicitly with a reason."""
    if not order.return_invoices or not any(p.group == "bankInvoice" for p in order.payments):
        return None
    gateway = order.gateway
    if gateway is not None and gateway.checked:
        refunded = sum(tx.total_refunds.minor for tx in gateway.transactions)
        # a transaction its order group shares must cover every order's return invoices, not just this one's
        needed = gateway.group_invoices if gateway.group_invoices is not None else order.invoice_refunded
        if refunded >= max(needed.minor, order.invoice_refunded.minor):
            return None
    return (
        f"order {order.order_id} was paid by boleto and has {len(order.return_invoices)} return invoice(s) of "
        f"{order.invoice_refunded} that VTEX counts as refunded; with a boleto the merchant pays that back by hand"
    )


def build_quote(
    order: Order,
    ledger: OrderLedger,
    raw: RefundInput | None = None,
    clean: dict[str, Any] | None = None,
    problems: Iterable[str] = (),
    *,
    offline: Money | None = None,
) -> Quote:
    """The order's balance, and every problem with ``raw`` (when given) against it.

    ``offline`` (the order's offline refunds net of reversals) is summed from ``ledger`` unless given: an import
    keeps a running sum per order instead of summing the ledger again for each row.
    A refunded-at given as a day only is resolved here, in the store's zone, into ``clean["refunded_at"]``."""
    currency = order.currency
    if offline is None:
        offline = ledger.offline_refunded(currency) if ledger.entries else Money.zero(currency)
    native = order.native_refunded
    blocked = refund_refusal(order.status)  # which orders may take an offline refund: the one status table
    probs = list(problems)
    warnings: list[str] = []
    proposed: Money | None = None
    lines: tuple[RefundLine, ...] = ()
    if raw is not None:
        named = other_currency(raw, currency)
        if named:
            probs.append(
                f"currency {named} is not the order's currency {currency}; refunds are recorded in the order's currency"
            )
        if raw.by_item:
            proposed, lines, item_problems = _item_amount(order, ledger, raw, clean, currency)
            probs.extend(item_problems)
        else:
            proposed, p = parse_refund_amount(raw, currency)  # read even so, to report every problem at once
            if p:
                probs.append(p)
        if named:
            proposed = None  # an amount in another currency is not one in the order's: nothing is proposed
        if blocked:
            probs.append(f"order {order.order_id} cannot take an offline refund: {blocked}")
        boleto = boleto_return_rule(order)
        if boleto and proposed is not None:
            if raw.allow_over_refund and raw.over_refund_reason.strip():
                warnings.append(f"{boleto} — recorded anyway: {raw.over_refund_reason.strip()}")
            else:
                probs.append(
                    f"{boleto}. Do not record that transfer here: it would count twice. Record only money paid "
                    "beyond the return invoices, allowing it explicitly with a reason (--allow-over-refund)"
                )
        if clean is not None and clean.get("refunded_day") is not None:
            p = _resolve_day(order, clean)
            if p:
                probs.append(p)
        when = (clean or {}).get("refunded_at")
        if when is not None and when.ns < order.created_at.ns:
            probs.append(
                f"refunded-at {when.isoformat(digits=0)} is before the order was created "
                f"({order.created_at.isoformat(digits=0)})"
            )
        if proposed is not None:
            refundable = order.charged - native - offline
            cap = Money(order.charged.minor * MAX_OFFLINE_FACTOR, currency)
            if proposed > refundable and raw.allow_over_refund and offline + proposed > cap:
                probs.append(
                    f"amount {proposed} would bring the offline refunds of order {order.order_id} to "
                    f"{offline + proposed}, more than {MAX_OFFLINE_FACTOR} times its total {order.charged}; no refund, "
                    "not even an over-refund, can be that large: check the amount"
                )
            elif proposed > refundable:
                over = proposed - refundable
                if raw.allow_over_refund:
                    warnings.append(
                        f"over-refund of {over} beyond the refundable {refundable}: {raw.over_refund_reason.strip()}"
                    )
                else:
                    probs.append(
                        f"amount {proposed} is more than the refundable balance {refundable} "
                        f"(order total {order.charged} − VTEX refunds {native} − offline refunds {offline}); "
                        "record at most the balance, or allow an over-refund with a reason"
                    )
    return Quote(
        order_id=order.order_id,
        status=order.status,
        currency=currency,
        created_at=order.created_at,
        order_total=order.charged,
        native_refunded=native,
        offline_refunded=offline,
        entries=ledger.entries,
        return_invoices=order.return_invoices,
        proposed=proposed,
        problems=tuple(dict.fromkeys(probs)),
        warnings=tuple(warnings),
        invoice_refunded=order.invoice_refunded,
        gateway_refunded=order.gateway_refunded,
        gateway_checked=order.gateway_checked,
        gateway_note=order.gateway.reason if order.gateway is not None else "gateway refunds were not checked",
        changes_refunded=order.changes_refunded,
        gateway_group_note=order.gateway.note if order.gateway is not None else "",
        value_note=value_note(order),
        blocked=blocked or "",
        lines=lines,
    )


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _item_amount(
    order: Order, ledger: OrderLedger, raw: RefundInput, clean: dict[str, Any] | None, currency: str
) -> tuple[Money | None, tuple[RefundLine, ...], list[str]]:
    """A refund by item: (its amount, its lines, the problems) against the order's unit and shipping balances.

    The amount, when given, may be lower than the lines at the price paid (a partial refund) but not higher; when
    not given it is their price paid."""
    problems: list[str] = []
    amount: Money | None = None
    if not _empty(raw.amount):
        amount, p = parse_refund_amount(raw, currency)
        if p:
            return None, (), [p]
    shipping: Any = raw.shipping
    if shipping is True or (isinstance(shipping, str) and not shipping.strip()):
        shipping = True
    elif isinstance(shipping, Money):
        if shipping.currency != currency:
            problems.append(f"shipping is in {shipping.currency} but the order is in {currency}")
    elif shipping is not None and shipping is not False:
        try:
            shipping = Money(parse_amount(shipping, currency), currency)
        except AmountError as exc:
            problems.append(f"shipping: {exc}")
    if problems:
        return None, (), problems
    picks = (clean or {}).get("picks")
    if picks is None:
        picks = tuple(parse_pick(p) for p in raw.items)
    if raw.items and not picks and (shipping is None or shipping is False):
        return None, (), []  # every item named was unreadable: check_refund said why, naming each
    priced: list[ItemPick] = []
    for pick in picks:  # a file's row's own amount, read in the order's currency
        if not isinstance(pick.amount, str):
            priced.append(pick)
            continue
        try:
            priced.append(replace(pick, amount=Money(parse_amount(pick.amount, currency), currency)))
        except AmountError as exc:
            problems.append(f"{pick.where}: amount: {exc}" if pick.where else f"amount: {exc}")
    if problems:
        return None, (), problems
    picks = tuple(priced)
    plan = plan_lines(order_items(order, ledger), picks, shipping, amount)
    return (plan.total if not plan.problems else None), plan.lines, list(plan.problems)


def value_note(order: Order) -> str:
    """A line for the balance when VTEX's value already excludes the return invoices (the account's verdict)."""
    if order.value_reading != "reduced" or not order.invoice_refunded.minor:
        return ""
    return (
        f"VTEX's order value {order.total} already excludes the return invoices ({order.invoice_refunded}), as "
        f"`refundkit doctor` found on this account: the order total here is what was charged, {order.charged}, and "
        "each return is subtracted once"
    )


def _resolve_day(order: Order, clean: dict[str, Any]) -> str | None:
    """Put the instant of a day-only refunded-at into ``clean``; or say why it cannot be resolved."""
    day: date = clean["refunded_day"]
    tz = clean.get("store_tz") or order_time_zone(order.raw)
    if tz is None:
        given = ((order.raw or {}).get("storePreferencesData") or {}).get("timeZone")
        return (
            f"refunded-at {day.isoformat()} has no time, and the store's time zone is not known "
            f"(VTEX gives {clip(given) if given else 'none'} for order {order.order_id}): give the time with its "
            "offset, such as 2026-03-01T14:30:00-03:00, or set REFUNDKIT_STORE_TZ to the store's zone "
            "(such as America/Sao_Paulo)"
        )
    now: Instant = clean["now"]
    if day > now.in_zone(tz).to_datetime().date():
        clean["refunded_at"] = None
        return (
            f"refunded-at {day.isoformat()} is in the future in the store's zone {tz}; give the day the money went back"
        )
    clean["refunded_at"] = day_instant(day, tz, now=now, not_before=order.created_at)
    return None


def entry_from(
    raw: RefundInput, clean: dict[str, Any], quote: Quote, *, entry_id: str, order_id: str, user: str, now: Instant
) -> LedgerEntry:
    assert quote.proposed is not None
    return LedgerEntry(
        entry_id=entry_id,
        order_id=order_id,
        kind=EntryKind.REFUND,
        amount=quote.proposed,
        refunded_at=clean["refunded_at"],
        source=clean["source"],
        external_ref=clean["external_ref"],
        reason=clean["reason"],
        note=clean["note"],
        recorded_by=user,
        recorded_at=now,
        over_refund=bool(quote.warnings),
        over_refund_reason=raw.over_refund_reason.strip() if quote.warnings else "",
        lines=quote.lines,
        restock=raw.restock if isinstance(raw.restock, bool) else None,
    )
