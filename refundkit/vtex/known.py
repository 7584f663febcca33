"""The words of VTEX's answers that refundkit's figures key on, without the models that parse them: what a report
needs of VTEX starts in a few microseconds (:mod:`refundkit.vtex.models` re-exports them)."""

from __future__ import annotations

__all__ = ["KNOWN_TOTAL_IDS", "VALUE_READINGS"]

#: The ids of an order's ``totals`` VTEX documents (``Change``: order modifications, in VTEX's own example of an
#: order's details); an account may send others, which refundkit keeps apart and names.
KNOWN_TOTAL_IDS: tuple[str, ...] = ("Items", "Discounts", "Shipping", "Tax", "Change")

#: How VTEX's order ``value`` reads after a return invoice (undocumented; ``refundkit doctor`` finds out):
#: ``kept`` — still what was charged, the return invoices subtract from it; ``reduced`` — already lowered by the
#: returned amount, so what was charged is ``value`` + the return invoices.
VALUE_READINGS: tuple[str, ...] = ("kept", "reduced")
