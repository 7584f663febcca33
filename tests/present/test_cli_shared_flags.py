"""The flags `refundkit report` and `refundkit items` share (--from, --to, --attribution, --tz, --currency, --format,
-o and the counting flags) as a person meets them: the same help, the same refusals, the same reading; and
`report --detail` naming a period as a person thinks of it (a month, any day in it). Run in process (run_cli)
against a sandbox served on loopback, synced once; each refusal is checked to ask VTEX nothing."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from refundkit.present.cli import build_parser
from refundkit.sandbox import Sandbox
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import CliResult, check_nothing_moved, run_cli, small_config

SPAN = ["--from", "2026-03-01", "--to", "2026-03-20"]
#: the flags both commands take, each declared once for both (refundkit.present.cli_common.add_report_flags)
SHARED = [
    *("--from", "--to", "--attribution", "--tz", "--currency", "--format", "--output"),
    *("--include-canceled", "--include-payment-pending", "--lookback-days", "--refresh"),
]


@dataclass
class Served:
    sb: Sandbox
    env: dict[str, str]
    home: Path

    def run(self, *args: str) -> CliResult:
        result = run_cli(list(args), self.env, self.home)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def refused(self, *args: str) -> str:
        """The one line ``args`` is refused with (exit 2), checked to have asked VTEX nothing: at most the one read
        by which a client on this machine learns that it talks to the sandbox (a real account's host gets none)."""
        before = len(self.sb.requests)
        result = self.run(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        asked = [f"{r.method} {r.path}" for r in list(self.sb.requests)[before:]]
        assert asked in ([], ["GET /api/dataentities/offlineRefund/schemas"]), (args, asked)
        return result.stderr.strip()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    sb = Sandbox(small_config(orders=150, start="2026-02-01", end="2026-03-20"))
    home = tmp_path_factory.mktemp("shared-flags")
    with sb.serve(port=0) as srv:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
        env.update(sandbox_variables(srv.base_url, sb.config), REFUNDKIT_CACHE_DIR=str(home / "cache"))
        it = Served(sb, env, home)
        synced = it.run("sync", "--from", "2026-01-01", "--to", "2026-03-20")
        assert synced.returncode == 0, synced.stderr
        yield it
    check_nothing_moved(sb)


def _actions(command: str) -> dict[str, argparse.Action]:
    """Each shared flag of ``command``, as ``--help`` shows it and argparse reads it."""
    parser = build_parser(command)._subparsers
    assert parser is not None
    sub = parser._group_actions[0].choices
    assert sub is not None
    return {flag: a for a in sub[command]._actions for flag in a.option_strings if flag in SHARED}


def _reading(action: argparse.Action) -> tuple[object, ...]:
    return (action.dest, action.help, action.type, action.default, action.metavar, action.required)


def test_report_and_items_explain_and_read_each_shared_flag_alike() -> None:
    report, items = _actions("report"), _actions("items")
    assert set(report) == set(items) == set(SHARED)
    for flag in SHARED:
        ours, theirs = report[flag], items[flag]
        assert ours.help, f"{flag} has no help"
        if flag in ("--from", "--to"):  # the one difference: report takes a named range (--period) instead
            assert not ours.required and theirs.required
            assert _reading(ours)[:-1] == _reading(theirs)[:-1], flag
        elif flag == "--output":  # report's -o also takes a folder, and says so after the same words
            assert ours.dest == theirs.dest and str(ours.help).startswith(str(theirs.help))
        else:
            assert _reading(ours) == _reading(theirs), flag
        if flag == "--format":  # the other difference: items writes no Parquet
            assert set(ours.choices or ()) - set(theirs.choices or ()) == {"parquet"}
        else:
            assert ours.choices == theirs.choices, flag


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "2026-02-30", "--to", "2026-03-20"], "'2026-02-30' is not a date: use YYYY-MM-DD"),
        (["--from", "2026-03-20", "--to", "2026-03-01"], "--to 2026-03-01 is before --from 2026-03-20: swap them"),
        ([*SPAN, "--tz", "Mars/Base"], "unknown time zone"),
        ([*SPAN, "--attribution", "cash"], "invalid choice: 'cash'"),
        ([*SPAN, "--currency", "BR1"], "currency 'BR1' is not a three-letter code such as BRL"),
        ([*SPAN, "--format", "pdf"], "invalid choice: 'pdf'"),
        ([*SPAN, "-o", "out.pdf"], "cannot write out.pdf"),
        ([*SPAN, "--format", "csv", "-o", "out.json"], "-o out.json names JSON but --format is csv"),
        ([*SPAN, "--lookback-days", "-1"], "'-1' must be 0 or more"),
    ],
)
def test_report_and_items_refuse_a_bad_shared_flag_with_the_same_line(
    served: Served, args: list[str], words: str
) -> None:
    report = served.refused("report", *args)
    items = served.refused("items", *args)
    assert words in report, report
    # the same line, but for the command's name and the one format items does not write
    same = report.replace("refundkit report", "refundkit items").replace(", 'parquet'", "")
    assert items == same.replace(", Parquet (.parquet)", "")


def test_items_refuses_parquet_and_says_what_it_writes(served: Served) -> None:
    assert "invalid choice: 'parquet'" in served.refused("items", *SPAN, "--format", "parquet")
    line = served.refused("items", *SPAN, "-o", "items.parquet")
    assert "cannot write items.parquet" in line and "CSV (.csv)" in line and "Parquet" not in line
    assert not (served.home / "items.parquet").exists()


def test_report_and_items_read_the_shared_flags_alike(served: Served) -> None:
    flags = [*SPAN, "--attribution", "order-date", "--tz", "America/Sao_Paulo", "--currency", "brl", "--no-sync"]
    report = served.run("report", *flags, "--format", "json")
    items = served.run("items", *flags, "--format", "json")
    assert report.returncode == 0 and items.returncode == 0, report.stderr + items.stderr
    ours = json.loads(report.stdout)["parameters"]
    theirs = json.loads(items.stdout)["parameters"]
    for key, value in (("from", "2026-03-01"), ("to", "2026-03-20"), ("tz", "America/Sao_Paulo"), ("currency", "BRL")):
        assert ours[key] == theirs[key] == value, key
    assert ours["attribution"] == theirs["attribution"]
    for command in ("report", "items"):  # -o's ending chooses the format in both
        out = served.home / f"{command}.csv"
        done = served.run(command, *flags, "-o", str(out))
        assert done.returncode == 0, done.stderr
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
        currencies = {r["currency"] for r in rows if r["currency"] is not None}  # not the notes after the rows
        assert currencies == {"BRL"}, (command, currencies)


# -- report --detail ----------------------------------------------------------------------------------------------
FEB_MAR = ["report", "--from", "2026-02-01", "--to", "2026-03-20", "--currency", "BRL", "--no-sync"]


def _detail(served: Served, by: str, period: str, fmt: str = "csv") -> str:
    result = served.run(*FEB_MAR, "--by", by, "--detail", period, "--format", fmt)
    assert result.returncode == 0, (by, period, result.stderr)
    return result.stdout


def test_detail_takes_a_month_for_a_report_by_month(served: Served) -> None:
    first_day = _detail(served, "month", "2026-03-01")
    rows = list(csv.DictReader(io.StringIO(first_day)))
    assert rows and {r["line"] for r in rows} >= {"order"}  # the orders of March, at least
    assert _detail(served, "month", "2026-03") == first_day
    assert "period 2026-03-01 BRL" in _detail(served, "month", "2026-03", "table")
    assert _detail(served, "month", "2026-02") != first_day


def test_detail_takes_any_day_inside_the_period(served: Served) -> None:
    assert _detail(served, "month", "2026-03-17") == _detail(served, "month", "2026-03-01")
    assert _detail(served, "month", "2026-02-28") == _detail(served, "month", "2026-02")
    monday = _detail(served, "week", "2026-03-09")
    assert _detail(served, "week", "2026-03-11") == monday  # a Wednesday: its week
    assert _detail(served, "week", "2026-03-15") == monday  # the Sunday that ends it
    assert _detail(served, "week", "2026-03-16") != monday
    assert "period 2026-03-09 BRL" in _detail(served, "week", "2026-03-13", "table")


@pytest.mark.parametrize(
    ("by", "period", "words"),
    [
        ("week", "2026-03", "--detail 2026-03 is a month but the report is by week: give a day (YYYY-MM-DD)"),
        ("day", "2026-03", "--detail 2026-03 is a month but the report is by day: give a day (YYYY-MM-DD)"),
        ("month", "2026-13", "'2026-13' is not a day or a month"),
        ("month", "March", "'March' is not a day or a month: give a day of the period (YYYY-MM-DD)"),
        ("month", "2026-3-1", "'2026-3-1' is not a day or a month"),
    ],
)
def test_detail_refuses_what_names_no_period_before_calling_vtex(
    served: Served, by: str, period: str, words: str
) -> None:
    line = served.refused(*[a for a in FEB_MAR if a != "--no-sync"], "--by", by, "--detail", period)
    assert words in line, line


def test_detail_of_a_day_outside_the_report_says_which_period_it_named(served: Served) -> None:
    result = served.run(*FEB_MAR, "--by", "month", "--detail", "2026-05-04", "--format", "csv")
    assert result.returncode == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "--detail 2026-05-04 is in the month of 2026-05-01" in line and "not a period of this report" in line
