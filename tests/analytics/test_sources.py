"""The registry of refund sources: each source named once, and every figure, table and chart built from it."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from refundkit.analytics.engine import REVENUE_SCHEMA, refund_lines, revenue_figures
from refundkit.analytics.frames import (
    GATEWAY_REFUND,
    NATIVE_REFUNDS_SCHEMA,
    UTC_NS,
    native_refunds_frame,
    orders_frame,
    refunds_frame,
)
from refundkit.analytics.report import CSV_COLUMNS
from refundkit.analytics.sources import REFUND_COLUMNS, SOURCES, RefundSource, refund_columns
from refundkit.analytics.trends import NATIVE_VS_OFFLINE_SCHEMA, REFUND_RATE_SCHEMA, refund_breakdown
from refundkit.present.htmltable import money_table
from tests.analytics.test_revenue import full, refund, reversal, rows, summary

PACKAGE = Path(__file__).resolve().parents[2] / "refundkit"


def test_refund_columns_are_spelled_only_in_the_registry() -> None:
    """A refund column's name is written once, in analytics/sources.py; everything else reads it from there."""
    names = [c.name for c in REFUND_COLUMNS]
    assert names == ["native_refunds_minor", "offline_refunds_minor"]
    spelled = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(re.search(rf"\b{name}\b", path.read_text(encoding="utf-8")) for name in names)
    }
    assert spelled == {"analytics/sources.py"}


def test_every_figure_has_one_column_per_refund_column_of_the_registry() -> None:
    for c in REFUND_COLUMNS:
        assert c.name in REVENUE_SCHEMA and c.name in REFUND_RATE_SCHEMA and c.name in NATIVE_VS_OFFLINE_SCHEMA
        assert c.stem in CSV_COLUMNS and c.stem in NATIVE_VS_OFFLINE_SCHEMA
    frame = pl.DataFrame({"currency": ["BRL"], **{c.name: [1234] for c in REFUND_COLUMNS}})
    assert money_table(frame).headers() == ["Currency", *(c.label[:1].upper() + c.label[1:] for c in REFUND_COLUMNS)]
    assert money_table(frame).rows() == [["BRL", *("BRL 12.34" for _ in REFUND_COLUMNS)]]


def test_each_refund_line_names_its_source_and_adds_to_its_column() -> None:
    s = summary("1-01", "2026-03-01T10:00:00Z", 10000)
    gateway = pl.DataFrame(
        {
            "order_id": ["1-01"],
            "invoice_number": [GATEWAY_REFUND],
            "amount_minor": [300],
            "currency": ["BRL"],
            "issued_at": [s.created_at.ns + 86_400 * 10**9],
            "order_created_at": [s.created_at.ns],
            "part_items_minor": [None],
        }
    ).select([pl.col(c).cast(pl.Int64 if t == UTC_NS else t).cast(t) for c, t in NATIVE_REFUNDS_SCHEMA.items()])
    native = pl.concat([native_refunds_frame([full(s, ("R1", 1500, "2026-03-05T00:00:00Z"))]), gateway])
    wrong = refund("rf-2", "1-01", 90, "2026-03-02T11:00:00Z")
    offline = refunds_frame(
        [refund("rf-1", "1-01", 250, "2026-03-02T10:00:00Z"), wrong, reversal("rv-2", wrong, "2026-03-03T09:00:00Z")]
    )
    orders = orders_frame([s])
    lines = refund_lines(orders, native, offline)
    assert rows(lines, "refund_source", "refund_id", "column", "amount_minor") == [
        ("return_invoice", "R1", "native_refunds", 1500),
        ("gateway_refund", GATEWAY_REFUND, "native_refunds", 300),
        ("offline", "rf-1", "offline_refunds", 250),
        ("offline", "rf-2", "offline_refunds", 90),
        ("offline", "rv-2", "offline_refunds", -90),
    ]
    column_of = {src.key: src.column.removesuffix("_minor") for src in SOURCES}
    assert all(column_of[k] == c for k, c in rows(lines, "refund_source", "column"))
    # trends show what VTEX refunded under its source's label, the ledger's refunds under where the money went
    by_source = rows(refund_breakdown(orders, native, offline, "source"), "source", "refunds", "refunded_minor")
    assert by_source == [
        ("VTEX return invoice", 1, 1500),
        ("VTEX refund on the payment (no return invoice)", 1, 300),
        ("cash", 1, 250),
    ]
    # net is gross changed by each refund column times its sign
    out = revenue_figures(orders, native, offline, period="month").rows
    assert rows(out, "gross_minor", "native_refunds_minor", "offline_refunds_minor", "net_minor") == [
        (10000, 1800, 250, 7950)
    ]
    signs = {c.name: c.sign for c in REFUND_COLUMNS}
    assert all(
        r["net_minor"] == r["gross_minor"] + sum(sign * r[name] for name, sign in signs.items())
        for r in out.iter_rows(named=True)
    )


def test_a_new_source_is_one_entry_and_sources_sharing_a_column_must_agree() -> None:
    chargeback = RefundSource(
        key="chargeback",
        frame="native",
        rows=None,
        column="chargebacks_minor",
        column_label="chargebacks",
        label="card chargeback",
        sign=-1,
        kind="native",
    )
    assert [c.name for c in refund_columns((*SOURCES, chargeback))] == [
        "native_refunds_minor",
        "offline_refunds_minor",
        "chargebacks_minor",
    ]
    relabelled = RefundSource(
        key="other",
        frame="ledger",
        rows=None,
        column="offline_refunds_minor",
        column_label="refunds outside VTEX",
        label="x",
        sign=-1,
        kind="offline",
    )
    with pytest.raises(ValueError, match="disagree"):
        refund_columns((*SOURCES, relabelled))
    with pytest.raises(ValueError, match="_minor"):
        refund_columns((RefundSource("x", "native", None, "chargebacks", "c", "c", -1, "native"),))
