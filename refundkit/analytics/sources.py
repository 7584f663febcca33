"""The registry of refund sources: every kind of refund the figures subtract from gross, named once.

Each :class:`RefundSource` says which input frame its refunds come from (``"native"``: the refunds VTEX made, one
row per return invoice or payment refund, :data:`~refundkit.analytics.frames.NATIVE_REFUNDS_SCHEMA`; ``"ledger"``:
the refundkit ledger's entries, :data:`~refundkit.analytics.frames.REFUNDS_SCHEMA`), which of its rows are this
source's, the report column it adds to, its label in words, and its sign (what one unit of it does to net revenue).
The analytics engine (:mod:`refundkit.analytics.engine`) builds every refund line, every refund column of every
report and trend, and net revenue from this table; charts and tables take their labels from it. Adding a source is
one entry here (and, for a new input, its loader).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from .frames import GATEWAY_REFUND

__all__ = [
    "REFUND_COLUMNS",
    "SOURCES",
    "RefundColumn",
    "RefundSource",
    "refund_columns",
]


@dataclass(frozen=True)
class RefundSource:
    """One kind of refund: ``key`` (its name in refund lines), ``frame`` (``"native"`` or ``"ledger"``), ``rows``
    (which rows of that frame are this source's; ``None``: all), ``column`` (the report column it adds to, integer
    minor units), ``column_label`` (that column in words), ``label`` (one refund of this source in words), ``sign``
    (net revenue changes by ``sign`` × the amount: −1, a refund lowers net), ``kind`` (``"native"``: VTEX made
    it; ``"offline"``: refunded outside VTEX and recorded in the ledger)."""

    key: str
    frame: str
    rows: Callable[[], pl.Expr] | None
    column: str
    column_label: str
    label: str
    sign: int
    kind: str


SOURCES: tuple[RefundSource, ...] = (
    RefundSource(
        key="return_invoice",
        frame="native",
        rows=lambda: pl.col("invoice_number") != GATEWAY_REFUND,
        column="native_refunds_minor",
        column_label="VTEX refunds",
        label="VTEX return invoice",
        sign=-1,
        kind="native",
    ),
    RefundSource(
        key="gateway_refund",
        frame="native",
        rows=lambda: pl.col("invoice_number") == GATEWAY_REFUND,
        column="native_refunds_minor",
        column_label="VTEX refunds",
        label="VTEX refund on the payment (no return invoice)",
        sign=-1,
        kind="native",
    ),
    RefundSource(
        key="offline",
        frame="ledger",
        rows=None,
        column="offline_refunds_minor",
        column_label="offline refunds",
        label="offline refund (refundkit ledger, net of reversals)",
        sign=-1,
        kind="offline",
    ),
)


@dataclass(frozen=True)
class RefundColumn:
    """A refund column of the figures: ``name`` (``*_minor``), ``label`` in words, ``sign`` in net, ``kind``."""

    name: str
    label: str
    sign: int
    kind: str

    @property
    def stem(self) -> str:
        """The name without ``_minor``: the column of exports that show it as money, and of counts."""
        return self.name.removesuffix("_minor")


def refund_columns(sources: tuple[RefundSource, ...] = SOURCES) -> tuple[RefundColumn, ...]:
    """The refund columns in registry order, one per distinct ``column``; sources sharing a column must agree on its
    label, sign and kind."""
    out: dict[str, RefundColumn] = {}
    for s in sources:
        if not s.column.endswith("_minor"):
            raise ValueError(f"refund source {s.key}: column {s.column!r} must end in _minor (minor units)")
        col = RefundColumn(s.column, s.column_label, s.sign, s.kind)
        if out.setdefault(s.column, col) != col:
            raise ValueError(f"refund sources disagree on column {s.column}: {out[s.column]} versus {col}")
    return tuple(out.values())


#: The refund columns of every figure, in order (today: VTEX refunds, offline refunds).
REFUND_COLUMNS: tuple[RefundColumn, ...] = refund_columns()
