"""Named ranges, the period still under way and comparisons, on the hand-made store of test_report_figures (its
orders: March 2026 in BRL and USD, one BRL order on 28 February in São Paulo, one in January)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from refundkit.analytics import OrderStore, gross_vs_net_report
from refundkit.analytics.engine import PRESETS, comparison_days, period_labels, preset_days
from refundkit.analytics.export import export_csv, export_json, export_parquet, export_xlsx
from refundkit.analytics.report import CSV_COLUMNS
from refundkit.errors import InputError
from refundkit.timeutil import parse_instant

from .test_report_figures import TZ, build_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> OrderStore:
    return build_store(tmp_path_factory.mktemp("periods"))


# -- named ranges ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("today", "name", "first", "last"),
    [
        (date(2026, 12, 3), "this-month", date(2026, 12, 1), date(2026, 12, 3)),
        (date(2026, 12, 3), "last-month", date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 12, 3), "last-quarter", date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 12, 3), "ytd", date(2026, 1, 1), date(2026, 12, 3)),
        (date(2026, 12, 3), "last-12-months", date(2026, 1, 1), date(2026, 12, 3)),
        # month ends and the first of a year
        (date(2026, 1, 31), "last-month", date(2025, 12, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), "ytd", date(2026, 1, 1), date(2026, 1, 1)),
        (date(2026, 3, 31), "last-month", date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 12, 31), "this-month", date(2026, 12, 1), date(2026, 12, 31)),
        # leap years
        (date(2024, 3, 1), "last-month", date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 2, 29), "this-month", date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 2, 29), "last-12-months", date(2023, 3, 1), date(2024, 2, 29)),
        # quarter boundaries
        (date(2026, 4, 1), "last-quarter", date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 3, 31), "last-quarter", date(2025, 10, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), "last-quarter", date(2025, 10, 1), date(2025, 12, 31)),
        (date(2026, 10, 1), "last-quarter", date(2026, 7, 1), date(2026, 9, 30)),
    ],
)
def test_named_ranges_on_pinned_days(today: date, name: str, first: date, last: date) -> None:
    assert preset_days(name, today) == (first, last)


def test_every_named_range_ends_today_or_before_and_an_unknown_one_is_named() -> None:
    for name in PRESETS:
        first, last = preset_days(name, date(2026, 5, 17))
        assert first <= last <= date(2026, 5, 17)
    with pytest.raises(InputError, match=r"last-week.*is not one of this-month"):
        preset_days("last-week", date(2026, 5, 17))


def test_a_named_range_is_the_local_day_of_the_store_zone(store: OrderStore) -> None:
    # 02:00 UTC on 1 April is still 31 March in São Paulo: this month is March there, April in UTC
    now = parse_instant("2026-04-01T02:00:00Z")
    sp = gross_vs_net_report(store, preset="this-month", tz=TZ, by="month", sync=False, now=now)
    assert (sp.parameters["from"], sp.parameters["to"], sp.parameters["range"]) == (
        "2026-03-01",
        "2026-03-31",
        "this-month",
    )
    utc = gross_vs_net_report(store, preset="this-month", tz="UTC", by="month", sync=False, now=now)
    assert (utc.parameters["from"], utc.parameters["to"]) == ("2026-04-01", "2026-04-01")
    # and the March figures are those of the same range given by hand
    by_hand = gross_vs_net_report(store, "2026-03-01", "2026-03-31", tz=TZ, by="month", sync=False, now=now)
    assert sp.rows.equals(by_hand.rows)


def test_a_named_range_and_a_start_are_not_both_given(store: OrderStore) -> None:
    with pytest.raises(InputError, match="not both"):
        gross_vs_net_report(store, "2026-03-01", None, preset="last-month", sync=False)
    with pytest.raises(InputError, match="start and an end, or a named range"):
        gross_vs_net_report(store, "2026-03-01", sync=False)


# -- the period under way -----------------------------------------------------------------------------------------
NOW = parse_instant("2026-03-20T15:00:00Z")  # Friday 20 March 2026, noon in São Paulo


def test_the_running_month_is_marked_in_every_format(store: OrderStore, tmp_path: Path) -> None:
    rep = gross_vs_net_report(store, "2026-02-01", "2026-03-31", tz=TZ, by="month", sync=False, now=NOW)
    marks = {(r["period"], r["currency"]): r["partial"] for r in rep.rows.iter_rows(named=True)}
    assert marks == {
        (date(2026, 2, 1), "BRL"): False,
        (date(2026, 2, 1), "USD"): False,
        (date(2026, 3, 1), "BRL"): True,
        (date(2026, 3, 1), "USD"): True,
    }
    rows = list(csv.DictReader(io.StringIO(export_csv(rep) or "")))
    assert [(r["period"], r["currency"], r["partial"]) for r in rows] == [
        ("2026-02-01", "BRL", "false"),
        ("2026-02-01", "USD", "false"),
        ("2026-03-01", "BRL", "true"),
        ("2026-03-01", "USD", "true"),
    ]
    body = json.loads(export_json(rep) or "")
    assert body["columns"][-1] == "partial"
    assert [r["partial"] for r in body["rows"]] == [False, False, True, True]
    xlsx = tmp_path / "r.xlsx"
    export_xlsx(rep, xlsx)
    book = zipfile.ZipFile(xlsx)  # one sheet per currency: BRL, USD, then the definitions
    sheets = [book.read(f"xl/worksheets/sheet{n}.xml").decode() for n in (1, 2)]
    assert [(s.count('t="b"><v>1</v>'), s.count('t="b"><v>0</v>')) for s in sheets] == [(1, 1), (1, 1)]
    export_parquet(rep, tmp_path / "r.parquet")
    assert pl.read_parquet(tmp_path / "r.parquet")["partial"].to_list() == [False, False, True, True]


def test_only_the_running_week_or_day_is_marked(store: OrderStore) -> None:
    weeks = gross_vs_net_report(store, "2026-03-01", "2026-03-31", tz=TZ, by="week", sync=False, now=NOW)
    assert sorted({r["period"] for r in weeks.rows.iter_rows(named=True) if r["partial"]}) == [date(2026, 3, 16)]
    days = gross_vs_net_report(store, "2026-03-01", "2026-03-31", tz=TZ, by="day", sync=False, now=NOW)
    assert sorted({r["period"] for r in days.rows.iter_rows(named=True) if r["partial"]}) == [date(2026, 3, 20)]


def test_a_report_of_past_periods_keeps_exactly_the_machine_columns(store: OrderStore) -> None:
    later = parse_instant("2026-04-20T15:00:00Z")
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", tz=TZ, by="month", sync=False, now=later)
    assert not rep.running
    assert (export_csv(rep) or "").splitlines()[0].split(",") == list(CSV_COLUMNS)


# -- comparison ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "last", "compare", "expected"),
    [
        (date(2026, 3, 1), date(2026, 3, 31), "previous", (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2026, 12, 1), date(2026, 12, 3), "previous", (date(2026, 11, 1), date(2026, 11, 3))),
        (date(2026, 7, 1), date(2026, 9, 30), "previous", (date(2026, 4, 1), date(2026, 6, 30))),
        (date(2026, 3, 11), date(2026, 3, 20), "previous", (date(2026, 3, 1), date(2026, 3, 10))),
        (date(2024, 2, 1), date(2024, 2, 29), "last-year", (date(2023, 2, 1), date(2023, 2, 28))),
        (date(2025, 2, 1), date(2025, 2, 28), "last-year", (date(2024, 2, 1), date(2024, 2, 29))),
        (date(2024, 2, 29), date(2024, 2, 29), "last-year", (date(2023, 2, 28), date(2023, 2, 28))),
        (date(2026, 1, 1), date(2026, 12, 3), "last-year", (date(2025, 1, 1), date(2025, 12, 3))),
    ],
)
def test_the_comparison_range(first: date, last: date, compare: str, expected: tuple[date, date]) -> None:
    assert comparison_days(first, last, compare) == expected


def _check_against(rep, base) -> None:  # type: ignore[no-untyped-def]  # two Reports
    """Each row's comparison columns equal the comparison range's own report, period by period in order."""
    p, by = base.parameters, base.parameters["by"]
    ours = sorted({r["period"] for r in rep.rows.iter_rows(named=True)})
    theirs = period_labels(date.fromisoformat(p["from"]), date.fromisoformat(p["to"]), by)
    assert (rep.parameters["compare_from"], rep.parameters["compare_to"]) == (p["from"], p["to"])
    assert len(ours) == len(theirs)
    assert {r["period"] for r in base.rows.iter_rows(named=True)} <= set(theirs)
    by_base = {(r["period"], r["currency"]): r for r in base.rows.iter_rows(named=True)}
    for r in rep.rows.iter_rows(named=True):
        b = by_base.get((theirs[ours.index(r["period"])], r["currency"]))
        assert r["compare_period"] == theirs[ours.index(r["period"])]
        for k in ("orders", "gross_minor", "net_minor"):
            assert r[f"compare_{k}"] == (b[k] if b else 0)
        for k in ("gross", "net"):
            base_minor = b[f"{k}_minor"] if b else 0
            assert r[f"{k}_change_minor"] == r[f"{k}_minor"] - base_minor
            if base_minor == 0:
                assert r[f"{k}_change_pct"] is None
            else:
                assert r[f"{k}_change_pct"] == round((r[f"{k}_minor"] - base_minor) * 100 / abs(base_minor), 1)


def test_previous_days_equal_their_own_report_per_currency(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-11", "2026-03-20", compare="previous", tz=TZ, sync=False, now=NOW)
    base = gross_vs_net_report(store, "2026-03-01", "2026-03-10", tz=TZ, sync=False, now=NOW)
    assert (rep.parameters["compare_from"], rep.parameters["compare_to"]) == ("2026-03-01", "2026-03-10")
    _check_against(rep, base)
    # USD sold only in the comparison range (B, 10 March): it is there, at zero now, never added to BRL
    usd = rep.rows.filter((pl.col("currency") == "USD") & (pl.col("compare_gross_minor") > 0))
    assert usd.select(
        "period", "gross_minor", "compare_gross_minor", "gross_change_minor", "gross_change_pct"
    ).rows() == [(date(2026, 3, 20), 0, 2000, -2000, -100.0)]
    brl = rep.rows.filter(pl.col("currency") == "BRL")
    assert brl["compare_gross_minor"].sum() == base.rows.filter(pl.col("currency") == "BRL")["gross_minor"].sum()


def test_previous_month_and_last_year_equal_their_own_reports(store: OrderStore) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="month", compare="previous", tz=TZ, sync=False)
    base = gross_vs_net_report(store, "2026-02-01", "2026-02-28", by="month", tz=TZ, sync=False)
    _check_against(rep, base)
    march = {r["currency"]: r for r in rep.display_rows()}
    # February: A0 only (BRL 50.00, created 28 February in São Paulo); USD nothing: its percent is blank
    assert (march["BRL"]["compare_gross"], march["BRL"]["gross_change"], march["BRL"]["gross_change_pct"]) == (
        "50.00",
        "180.00",
        "360.0",
    )
    assert (march["USD"]["compare_gross"], march["USD"]["gross_change_pct"], march["USD"]["net_change_pct"]) == (
        "0.00",
        "",
        "",
    )
    year = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="week", compare="last-year", tz=TZ, sync=False)
    _check_against(year, gross_vs_net_report(store, "2025-03-01", "2025-03-31", by="week", tz=TZ, sync=False))
    assert year.parameters["compare_from"] == "2025-03-01"


def test_the_comparison_columns_reach_every_format(store: OrderStore, tmp_path: Path) -> None:
    rep = gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="month", compare="previous", tz=TZ, sync=False)
    header = (export_csv(rep) or "").splitlines()[0].split(",")
    assert header[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)
    assert header[len(CSV_COLUMNS) :] == [
        "compare_period",
        "compare_orders",
        "compare_gross",
        "gross_change",
        "gross_change_pct",
        "compare_net",
        "net_change",
        "net_change_pct",
    ]
    body = json.loads(export_json(rep) or "")
    brl = next(r for r in body["rows"] if r["currency"] == "BRL")
    assert (brl["compare_gross_minor"], brl["gross_change_minor"], brl["gross_change_pct"]) == (5000, 18000, "360.0")
    export_xlsx(rep, tmp_path / "c.xlsx")
    sheet = zipfile.ZipFile(tmp_path / "c.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<v>360</v>" in sheet and "<v>180</v>" in sheet  # the percent and the change, numbers


def test_an_unknown_comparison_is_one_line(store: OrderStore) -> None:
    with pytest.raises(InputError, match="compare 'yesterday' is not one of previous, last-year"):
        gross_vs_net_report(store, "2026-03-01", "2026-03-31", compare="yesterday", sync=False)
