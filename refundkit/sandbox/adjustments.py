"""An order's history of VTEX's other refunds, as the sandbox's store keeps it (what :mod:`refundkit.sandbox.payments`
shows on the order and its payment transaction): order changes, gateway refunds, restitutions, a patch.

:class:`Adjustment` is how a test (or :meth:`Store.adjust`) gives one order such a history; the fields are described
in :mod:`refundkit.sandbox.payments`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from refundkit.timeutil import Instant

__all__ = ["Adjustment", "Change", "transaction_id_for"]


@dataclass(frozen=True)
class Change:
    reason: str
    discount: int  # cents
    increment: int = 0
    at: Instant | None = None


@dataclass
class Adjustment:
    changes: list[Change] = field(default_factory=list)
    change_settled: bool = False
    gateway_refund: int = 0
    gateway_refund_at: Instant | None = None
    restitutions: dict[str, int] = field(default_factory=dict)
    patch: Callable[[dict[str, Any]], None] | None = None

    @property
    def reduction(self) -> int:
        return sum(c.discount - c.increment for c in self.changes)


def transaction_id_for(account: str, order_id: str) -> str:
    """The order's payment transaction id: stable, so the Payments endpoint can find the order again."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"vtexpayments:{account}:{order_id}").hex.upper()
