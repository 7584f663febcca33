"""The report's figures on a small store whose every number is computed by hand below.

Time zone America/Sao_Paulo (UTC-3 all year since 2019). Range 2026-03-01 to 2026-03-31.

==  =========================  ======  ========  ===========================================================
id  created (UTC)              status  total     refunds
==  =========================  ======  ========  ===========================================================
A   2026-03-01T03:00:00Z       inv.    BRL 100   — created at local midnight: 1 March in São Paulo
A0  2026-03-01T02:59:59.99999  inv.    BRL  50   — 28 February in São Paulo, 1 March in UTC
B   2026-03-10T12:00Z          inv.    USD  20   — the second currency
C   2026-01-15T12:00Z          inv.    BRL  80   offline 30 refunded 2026-03-05 (order created before the range)
D   2026-03-12T12:00Z          inv.    BRL  60   offline 10 on 03-13, reversed on 03-20; offline 5 on 03-14
E   2026-03-15T12:00Z          cancel  BRL  40   return invoice 40 issued 03-16 (a canceled order)
F   2026-03-20T12:00Z          inv.    BRL  70   return invoice 25 issued 03-25
G   2026-03-18T12:00Z          pend.   BRL  15   — payment pending
==  =========================  ======  ========  ===========================================================

Refund-date view, by month, BRL: orders A, D, F = 3; gross 100 + 60 + 70 = 230.00; VTEX refunds 25.00 (F; E's is
left out with its canceled order); offline 30 (C) + 10 − 10 + 5 (D) = 35.00; net 230 − 25 − 35 = 170.00.
USD: 1 order, 20.00 gross and net. Order-date view, BRL: offline only D's 5.00 (C was created in January):
net 230 − 25 − 5 = 200.00.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from refundkit.analytics import OrderStore, gross_vs_net_report, report_detail
from refundkit.analytics.store import STORE_ORDERS_SCHEMA
from refundkit.errors import InputError
from refundkit.ledger.model import LedgerEntry
from refundkit.money import Money
from refundkit.timeutil import parse_instant

TZ = "America/Sao_Paulo"


def _order(
    oid: str, created: str, status: str, currency: str, total: int, *, invoices: list[str] | None = None
) -> dict:
    row = dict.fromkeys(STORE_ORDERS_SCHEMA)
    row.update(
        order_id=oid,
        created_at=parse_instant(created).ns,
        status=status,
        currency=currency,
        total_minor=total,
        sales_channel="1",
        payment_names="Pix",
        origin="Marketplace",
        invoice_input=invoices or [],
        read_at=parse_instant("2026-04-01T00:00:00Z").ns,
        has_details=False,
    )
    return row


def _entry(
    eid: str, oid: str, kind: str, minor: int, at: str, *, ref: str, reason: str = "", reverses: str | None = None
):
    return LedgerEntry(
        entry_id=eid,
        order_id=oid,
        kind=kind,  # type: ignore[arg-type]  # each kind from the parameter list
        amount=Money(minor, "BRL"),
        refunded_at=parse_instant(at),
        source="cash",
        external_ref=ref,
        reason=reason,
        note="",
        recorded_by="tester",
        recorded_at=parse_instant(at),
        reverses=reverses,
    )


def build_store(root: Path) -> OrderStore:
    from refundkit.analytics.store import orders_rows_frame

    st = OrderStore(root, "handmade")
    rows = [
        _order("A", "2026-03-01T03:00:00Z", "invoiced", "BRL", 10000),
        _order("A0", "2026-03-01T02:59:59.9999999Z", "invoiced", "BRL", 5000),
        _order("B", "2026-03-10T12:00:00Z", "invoiced", "USD", 2000),
        _order("C", "2026-01-15T12:00:00Z", "invoiced", "BRL", 8000),
        _order("D", "2026-03-12T12:00:00Z", "invoiced", "BRL", 6000),
        _order("E", "2026-03-15T12:00:00Z", "canceled", "BRL", 4000, invoices=["RE1"]),
        _order("F", "2026-03-20T12:00:00Z", "invoiced", "BRL", 7000, invoices=["RF1"]),
        _order("G", "2026-03-18T12:00:00Z", "payment-pending", "BRL", 1500),
    ]
    st.upsert_orders(orders_rows_frame(rows))
    returns = pl.DataFrame(
        {
            "order_id": ["E", "F"],
            "invoice_number": ["RE1", "RF1"],
            "amount_minor": [4000, 2500],
            "currency": ["BRL", "BRL"],
            "issued_at": [parse_instant("2026-03-16T12:00:00Z").ns, parse_instant("2026-03-25T12:00:00Z").ns],
            "order_created_at": [parse_instant("2026-03-15T12:00:00Z").ns, parse_instant("2026-03-20T12:00:00Z").ns],
        }
    ).with_columns(pl.col("issued_at", "order_created_at").cast(pl.Datetime("ns", "UTC")))
    st.write_month("return_invoices", "2026-03", returns)
    st.replace_offline_refunds(
        [
            _entry("rf-c", "C", "refund", 3000, "2026-03-05T12:00:00Z", ref="C-1"),
            _entry("rf-d1", "D", "refund", 1000, "2026-03-13T12:00:00Z", ref="D-1"),
            _entry(
                "rv-d1",
                "D",
                "reversal",
                1000,
                "2026-03-20T12:00:00Z",
                ref="D-1",
                reason="wrong order",
                reverses="rf-d1",
            ),
            _entry(
                "rf-d2", "D", "refund", 500, "2026-03-14T12:00:00Z", ref='=HYPERLINK("http://x")', reason="-broken;=2+3"
            ),
        ],
        since=None,
    )
    state = st.state()
    state.add(parse_instant("2025-01-01T00:00:00Z").ns, parse_instant("2026-04-01T00:00:00Z").ns)
    state.synced_at = parse_instant("2026-04-01T00:00:00Z").ns
    st.save_state(state)
    return st


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> OrderStore:
    return build_store(tmp_path_factory.mktemp("handmade"))


BASE = ("period", "currency", "orders", "gross", "native_refunds", "offline_refunds", "net")


def table(report) -> list[tuple]:
    """The rows' columns before the split (the split is checked on its own)."""
    return [tuple(r[c] for c in BASE) for r in report.display_rows()]


def test_month_refund_date_view_by_hand(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="month", tz=TZ)
    assert table(rep) == [
        ("2026-03-01", "BRL", 3, "230.00", "25.00", "35.00", "170.00"),
        ("2026-03-01", "USD", 1, "20.00", "0.00", "0.00", "20.00"),
    ]
    # the canceled order's return invoice is left out of both views, and said so
    assert any("left out of both views" in w and "BRL 40.00" in w for w in rep.warnings)


def test_month_order_date_view_by_hand(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="month", tz=TZ, attribution="order-date")
    assert table(rep) == [
        ("2026-03-01", "BRL", 3, "230.00", "25.00", "5.00", "200.00"),
        ("2026-03-01", "USD", 1, "20.00", "0.00", "0.00", "20.00"),
    ]


def test_local_midnight_and_utc(store: OrderStore) -> None:
    days = gross_vs_net_report(store, "2026-03-01", "2026-03-01", by="day", tz=TZ, currency="BRL")
    assert table(days) == [("2026-03-01", "BRL", 1, "100.00", "0.00", "0.00", "100.00")]
    # in UTC the order placed a tick before São Paulo's midnight is on 1 March too
    utc = gross_vs_net_report(store, "2026-03-01", "2026-03-01", by="day", tz="UTC", currency="BRL")
    assert table(utc) == [("2026-03-01", "BRL", 2, "150.00", "0.00", "0.00", "150.00")]


def test_first_week_keeps_its_own_label_and_only_the_range(store: OrderStore) -> None:
    weeks = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="week", tz=TZ, currency="BRL")
    first = {k: v for k, v in weeks.display_rows()[0].items() if k in BASE}
    # 1 March 2026 is a Sunday: its week starts on Monday 23 February, and holds only 1 March (order A)
    assert first == {
        "period": "2026-02-23",
        "currency": "BRL",
        "orders": 1,
        "gross": "100.00",
        "native_refunds": "0.00",
        "offline_refunds": "0.00",
        "net": "100.00",
    }
    by_week = {r["period"]: r for r in weeks.display_rows()}
    # C's refund (an order of January) counts on its own date, 5 March: the week of 2 March
    assert by_week["2026-03-02"]["offline_refunds"] == "30.00"
    # D's refund and its reversal net out on 13 March, where the mistake was made; D's 5.00 on 14 March
    assert by_week["2026-03-09"]["offline_refunds"] == "5.00"
    assert by_week["2026-03-09"]["gross"] == "60.00"


def test_drill_down_shows_what_is_behind_a_row(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="month", tz=TZ)
    d = report_detail(rep, "2026-03-01", "BRL")
    assert sorted(d.orders["order_id"].to_list()) == ["A", "D", "F"]
    refunds = {r["refund_id"]: r for r in d.display_refunds(TZ)}
    assert set(refunds) == {"RF1", "rf-c", "rf-d1", "rv-d1", "rf-d2"}
    # listed by date, then by id (the report's own lines are in no particular order)
    shown = d.refunds.select("attributed_at", "refund_id").rows()
    assert shown == sorted(shown)
    assert refunds["rv-d1"]["amount"] == "-10.00" and refunds["rv-d1"]["reason"] == "wrong order"
    assert refunds["RF1"]["source"] == "vtex" and refunds["RF1"]["column"] == "native_refunds"
    assert refunds["rf-c"]["order_created_at"] == "2026-01-15T09:00:00-03:00"
    with pytest.raises(InputError, match="not a period"):
        report_detail(rep, date(2026, 3, 2))
    with pytest.raises(InputError, match="no EUR"):
        report_detail(rep, "2026-03-01", "EUR")


def test_report_says_when_the_store_lacks_part_of_the_range(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="month", tz=TZ, lookback_days=500)
    assert any("has not synced" in w for w in rep.warnings)


def test_exports_neutralise_formulas_and_keep_amounts_numbers(store: OrderStore, tmp_path: Path) -> None:
    import io
    import json
    import zipfile

    from refundkit.analytics import export_csv, export_json, export_parquet, export_xlsx

    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="month", tz=TZ)
    detail = report_detail(rep, "2026-03-01", "BRL")
    text = export_csv(rep, detail=detail)
    assert text is not None
    lines = text.splitlines()
    # a formula after a ";" too: Excel in Portuguese splits the cell there
    assert any("'=HYPERLINK" in line and "'-broken;'=2+3" in line for line in lines)
    assert any(",-10.00," in line for line in lines)  # the reversal's amount stays a number, not text
    # no order of this store was synced with details: its gross is not split, nor are its refunds
    assert export_csv(rep) == (
        "period,currency,orders,gross,native_refunds,offline_refunds,net,gross_items,gross_discounts,gross_shipping,"
        "gross_tax,gross_changes,gross_other,gross_not_split,orders_not_split,refunds_items,refunds_shipping,"
        "refunds_not_split\n"
        "2026-03-01,BRL,3,230.00,25.00,35.00,170.00,0.00,0.00,0.00,0.00,0.00,0.00,230.00,3,0.00,0.00,60.00\n"
        "2026-03-01,USD,1,20.00,0.00,0.00,20.00,0.00,0.00,0.00,0.00,0.00,0.00,20.00,1,0.00,0.00,0.00\n"
    )
    body = json.loads(export_json(rep, detail=detail) or "")
    assert body["parameters"]["tz"] == TZ and body["parameters"]["attribution"] == "refund-date"
    assert body["rows"][0]["net"] == "170.00" and body["rows"][0]["net_minor"] == 17000
    assert {r["reference"] for r in body["detail"]["refunds"]} >= {'=HYPERLINK("http://x")'}  # JSON is not a sheet
    out = tmp_path / "r.xlsx"
    export_xlsx(rep, out, detail=detail)
    with zipfile.ZipFile(out) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "'=HYPERLINK" in strings and ">=HYPERLINK" not in strings
    assert "'-broken;'=2+3" in strings
    assert "<v>170</v>" in sheet  # net as a number
    buf = io.BytesIO()
    export_parquet(rep, buf)
    back = pl.read_parquet(io.BytesIO(buf.getvalue()))
    assert back["net_minor"].to_list() == [17000, 2000]
