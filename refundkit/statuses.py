"""Every order status VTEX documents, and its place in gross revenue: the one table refundkit follows.

VTEX documents its order statuses in two places: the order-flow guide (help.vtex.com, "Order flow and status") and
the feed's filter in the Orders API (``orders.json``: FeedConfiguration's ``filter.status``, and ``f_status`` of
the order list). :data:`STATUSES` gives each of them one :class:`Place`:

* **counted** in gross: a sale, paid or being fulfilled (a cancellation that was only asked for, or was denied,
  leaves the sale standing);
* **canceled**: left out of gross; ``include_canceled`` (``refundkit report --include-canceled``) counts it;
* **payment pending**: not paid yet, left out of gross; ``include_payment_pending``
  (``--include-payment-pending``) counts it;
* **never a sale**: left out of gross always (VTEX could not create the order, or another order replaced it and
  carries the sale).

**The rule for a status nobody documents** (:attr:`Place.UNKNOWN`): the order is never dropped. It is listed, counted
in gross, and every listing and report names the status with its number of orders, so that the merchant can check
it in the VTEX Admin. It cannot take an offline refund: refundkit cannot tell whether it was paid.

Everything that leaves orders out of gross (reports, trends, charts, the sync's status checks, the ledger's
balance at look-up) reads this module; nothing else lists statuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DOCUMENTED",
    "LEFT_OUT_GROUPS",
    "STATUSES",
    "UNKNOWN_RULE",
    "Place",
    "StatusRule",
    "counts_in_gross",
    "left_out",
    "left_out_phrase",
    "place_of",
    "refund_refusal",
    "status_label",
    "table_markdown",
    "unknown_counts",
    "unknown_statuses_line",
]


class Place(StrEnum):
    """Where an order of a status stands in gross revenue."""

    COUNTED = "counted"
    CANCELED = "canceled"
    PAYMENT_PENDING = "payment-pending"
    NEVER_A_SALE = "never-a-sale"
    UNKNOWN = "unknown"

    @property
    def words(self) -> str:
        return _PLACE_WORDS[self]


_PLACE_WORDS = {
    Place.COUNTED: "counted in gross",
    Place.CANCELED: "left out as canceled (include_canceled / --include-canceled counts it)",
    Place.PAYMENT_PENDING: (
        "left out as payment pending (include_payment_pending / --include-payment-pending counts it)"
    ),
    Place.NEVER_A_SALE: "left out: never a sale",
    Place.UNKNOWN: "counted in gross, and named with its count wherever orders are listed or reported",
}


@dataclass(frozen=True)
class StatusRule:
    status: str
    place: Place
    why: str  # in plain words: what the status means and why it has this place
    refund: str = ""  # why such an order cannot take an offline refund ("" when it can)


_UNPAID = "its payment is still pending, so there is nothing to refund yet"
_STANDS = "the sale stands until VTEX cancels the order (it then moves to cancel or canceled)"

_RULES = (
    # -- counted: a sale -----------------------------------------------------------------------------------------
    StatusRule("payment-approved", Place.COUNTED, "paid: VTEX approved the payment"),
    StatusRule(
        "window-to-cancel",
        Place.COUNTED,
        "paid; the customer may still cancel for a short while (that moves it to cancel)",
    ),
    StatusRule("window-to-change-seller", Place.COUNTED, "paid; the marketplace may still hand it to another seller"),
    StatusRule("authorize-fulfillment", Place.COUNTED, "paid: the marketplace authorised the seller to fulfil it"),
    StatusRule("waiting-seller-handling", Place.COUNTED, "paid; waiting for the seller to start handling it"),
    StatusRule("ready-for-handling", Place.COUNTED, "paid; waiting for the store to start handling it"),
    StatusRule("start-handling", Place.COUNTED, "paid; handling authorised"),
    StatusRule("handling", Place.COUNTED, "paid; being prepared for delivery"),
    StatusRule("ready-for-invoicing", Place.COUNTED, "paid; ready to be invoiced"),
    StatusRule("invoice", Place.COUNTED, "paid; VTEX is verifying its invoice"),
    StatusRule("invoiced", Place.COUNTED, "the sale is complete: invoiced, and the payment settled"),
    StatusRule(
        "invoice-after-cancellation-deny",
        Place.COUNTED,
        "a cancellation was asked for and denied, and the order was invoiced: a sale",
    ),
    StatusRule("request-cancel", Place.COUNTED, f"a cancellation was asked for, not made: {_STANDS}"),
    StatusRule("cancellation-requested", Place.COUNTED, f"a cancellation was asked for, not made: {_STANDS}"),
    StatusRule(
        "waiting-for-seller-decision", Place.COUNTED, f"the seller is deciding on a cancellation request: {_STANDS}"
    ),
    # -- canceled ----------------------------------------------------------------------------------------------
    StatusRule(
        "cancel",
        Place.CANCELED,
        "being canceled: VTEX is returning the payment",
        "it is being canceled, so VTEX is returning the payment",
    ),
    StatusRule(
        "canceled",
        Place.CANCELED,
        "canceled: VTEX returned the payment (or took none)",
        "it is canceled, so VTEX already returned the payment",
    ),
    # -- payment pending: not paid yet ---------------------------------------------------------------------------
    StatusRule("order-created", Place.PAYMENT_PENDING, "just placed; VTEX is still processing it, unpaid", _UNPAID),
    StatusRule("order-completed", Place.PAYMENT_PENDING, "checkout finished; the payment is not approved yet", _UNPAID),
    StatusRule(
        "on-order-completed", Place.PAYMENT_PENDING, "checkout finished; the payment is not approved yet", _UNPAID
    ),
    StatusRule(
        "on-order-completed-ffm",
        Place.PAYMENT_PENDING,
        "the seller's copy of a new order; the payment is not confirmed yet",
        _UNPAID,
    ),
    StatusRule(
        "order-accepted",
        Place.PAYMENT_PENDING,
        "the seller received the order; the marketplace has not confirmed the payment yet",
        _UNPAID,
    ),
    StatusRule(
        "waiting-for-authorization",
        Place.PAYMENT_PENDING,
        "waiting for the seller to confirm the order, which comes before the payment",
        _UNPAID,
    ),
    StatusRule(
        "waiting-for-sellers-confirmation",
        Place.PAYMENT_PENDING,
        "the order list's spelling of waiting-for-authorization: before the payment",
        _UNPAID,
    ),
    StatusRule(
        "waiting-for-order-authorization",
        Place.PAYMENT_PENDING,
        "waiting for the store's order authorisation rules to approve it, before the payment",
        _UNPAID,
    ),
    StatusRule("payment-pending", Place.PAYMENT_PENDING, "waiting for the payment", _UNPAID),
    StatusRule("approve-payment", Place.PAYMENT_PENDING, "the payment is being approved, not approved yet", _UNPAID),
    StatusRule(
        "window-to-change-payment",
        Place.PAYMENT_PENDING,
        "the customer may still change how to pay: no payment approved",
        _UNPAID,
    ),
    StatusRule(
        "waiting-for-fulfillment",
        Place.PAYMENT_PENDING,
        "the seller waits for the marketplace's authorisation, which follows the payment",
        _UNPAID,
    ),
    StatusRule(
        "waiting-ffmt-authorization",
        Place.PAYMENT_PENDING,
        "the seller waits for the marketplace to confirm the payment",
        _UNPAID,
    ),
    StatusRule(
        "waiting-for-manual-authorization",
        Place.PAYMENT_PENDING,
        "the seller waits for the marketplace to confirm the payment",
        _UNPAID,
    ),
    StatusRule(
        "waiting-for-mkt-authorization",
        Place.PAYMENT_PENDING,
        "a chain store waits for the marketplace's authorisation, which follows the payment",
        _UNPAID,
    ),
    # -- never a sale ------------------------------------------------------------------------------------------
    StatusRule(
        "order-create-error",
        Place.NEVER_A_SALE,
        "VTEX could not create the order",
        "VTEX could not create it, so it was never a sale",
    ),
    StatusRule(
        "order-creation-error",
        Place.NEVER_A_SALE,
        "VTEX could not create the order",
        "VTEX could not create it, so it was never a sale",
    ),
    StatusRule(
        "replaced",
        Place.NEVER_A_SALE,
        "another order replaced it and carries the sale (counting both would count it twice)",
        "another order replaced it: record the refund on that order",
    ),
)

#: Every status VTEX documents, with its place.
STATUSES: dict[str, StatusRule] = {r.status: r for r in _RULES}
#: The statuses VTEX documents (the order-flow guide, orders.json's feed and list filters).
DOCUMENTED: frozenset[str] = frozenset(STATUSES)

#: The rule for a status :data:`STATUSES` does not list, in the words the README and warnings use.
UNKNOWN_RULE = (
    "an order whose status refundkit does not know is never dropped: it is listed, counted in gross, and named with "
    "its count in every listing and report; it cannot take an offline refund until its status is one refundkit knows"
)
_UNKNOWN_REFUND = (
    "its status {status} is not one refundkit knows, so it cannot tell whether the order was paid; check the order "
    "in the VTEX Admin, and record the refund once VTEX shows a known status"
)

#: The statuses of each place gross leaves out, one group per place, in a fixed order: the sync compares VTEX's
#: count of each group (one ``f_status`` call) with the store's.
LEFT_OUT_GROUPS: tuple[tuple[str, ...], ...] = tuple(
    tuple(r.status for r in _RULES if r.place is p) for p in (Place.CANCELED, Place.PAYMENT_PENDING, Place.NEVER_A_SALE)
)


def place_of(status: str | None) -> Place:
    rule = STATUSES.get(status or "")
    return rule.place if rule else Place.UNKNOWN


def _left_out_places(include_canceled: bool, include_payment_pending: bool) -> tuple[Place, ...]:
    return (
        *(() if include_canceled else (Place.CANCELED,)),
        *(() if include_payment_pending else (Place.PAYMENT_PENDING,)),
        Place.NEVER_A_SALE,
    )


def left_out(include_canceled: bool = False, include_payment_pending: bool = False) -> list[str]:
    """The statuses gross leaves out with these options (every other status, an unknown one too, counts)."""
    places = _left_out_places(include_canceled, include_payment_pending)
    return [r.status for r in _RULES if r.place in places]


def counts_in_gross(
    status: str | None, *, include_canceled: bool = False, include_payment_pending: bool = False
) -> bool:
    return place_of(status) not in _left_out_places(include_canceled, include_payment_pending)


def left_out_phrase(include_canceled: bool = False, include_payment_pending: bool = False) -> str:
    """The places gross leaves out with these options, in words: ``"canceled, payment-pending and never-a-sale"``."""
    names = [p.value for p in _left_out_places(include_canceled, include_payment_pending)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def refund_refusal(status: str | None) -> str | None:
    """Why an order of this status cannot take an offline refund (its balance is 0), or None when it can."""
    rule = STATUSES.get(status or "")
    if rule is None:
        return _UNKNOWN_REFUND.format(status=status_label(status))
    return rule.refund or None


def status_label(status: str | None) -> str:
    """A status as a person reads it: quoted, made inert, clipped; ``(no status)`` when VTEX sent none."""
    if not status:
        return "(no status)"
    shown = "".join(c if c.isprintable() else "?" for c in status)
    return repr(shown if len(shown) <= 60 else shown[:59] + "…")


def unknown_counts(statuses: Iterable[str | None] | Mapping[str, int]) -> dict[str, int]:
    """How many orders have each status :data:`STATUSES` does not list, most frequent first. Takes the statuses of
    the orders (one per order) or counts by status."""
    counts: dict[str, int] = {}
    items = statuses.items() if isinstance(statuses, Mapping) else ((s, 1) for s in statuses)
    for status, n in items:
        if (status or "") not in STATUSES and n:
            counts[status or ""] = counts.get(status or "", 0) + n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def unknown_statuses_line(counts: Mapping[str, int], what: str = "") -> str | None:
    """One sentence naming each unknown status with its count (None when there is none), for a listing's or a
    report's warnings. ``what`` says where they are (``"in this report"``)."""
    counts = unknown_counts(counts)
    if not counts:
        return None
    total = sum(counts.values())
    named = ", ".join(f"{status_label(s)}: {n:,}" for s, n in list(counts.items())[:8])
    more = f" and {len(counts) - 8} more" if len(counts) > 8 else ""
    where = f" {what}" if what else ""
    return (
        f"{total:,} order(s){where} have a status refundkit does not know ({named}{more}); they are listed and "
        "counted in gross, as refundkit counts any status it does not know. Check them in the VTEX Admin"
    )


def table_markdown() -> str:
    """The table as the README shows it: status, place in gross, why."""
    lines = ["| status | place in gross | why |", "|---|---|---|"]
    for r in _RULES:
        lines.append(f"| `{r.status}` | {r.place.words} | {r.why} |")
    lines.append(f"| any other status | {Place.UNKNOWN.words} | {UNKNOWN_RULE} |")
    return "\n".join(lines)
