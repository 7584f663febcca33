"""One report across several accounts: each account's own report, stacked under a leading ``account`` column.

Nothing here computes revenue: every account's rows are exactly its own :func:`~refundkit.analytics.report.
gross_vs_net_report`, so whatever that report counts, this one counts the same way. Totals are per account and
currency; nothing converts or adds currencies, and two accounts' amounts are never added either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from .report import CSV_COLUMNS, Report, gross_vs_net_report
from .totals import display_totals

__all__ = ["AccountsReport", "accounts_report"]


@dataclass
class AccountsReport:
    """The reports of several accounts, by account name, in the order asked for."""

    reports: dict[str, Report]

    @property
    def rows(self) -> pl.DataFrame:
        """Every account's rows under a leading ``account`` column (amounts in minor units, as each report has them)."""
        frames = [r.rows.select(pl.lit(name).alias("account"), pl.all()) for name, r in self.reports.items()]
        return (
            pl.concat(frames, how="vertical") if frames else pl.DataFrame({"account": []}, schema={"account": pl.Utf8})
        )

    @property
    def columns(self) -> list[str]:
        """``account``, then the columns of the reports (a comparison's and the period under way's included)."""
        first = next(iter(self.reports.values()), None)
        return ["account", *(first.columns if first is not None else CSV_COLUMNS)]

    @property
    def totals_columns(self) -> list[str]:
        """The columns of :meth:`totals`: those of the rows but the period's own."""
        return [c for c in self.columns if c not in ("period", "partial", "compare_period")]

    @property
    def warnings(self) -> list[str]:
        return [f"{name}: {w}" for name, r in self.reports.items() for w in r.warnings]

    def display_rows(self) -> list[dict[str, Any]]:
        """The rows as one account's report shows them, each led by its account."""
        return [{"account": name, **row} for name, r in self.reports.items() for row in r.display_rows()]

    def totals(self) -> list[dict[str, Any]]:
        """One row per account and currency: the sums of its periods, shown as money (:mod:`.totals`' one rule)."""
        rows = self.rows
        return [] if rows.is_empty() else display_totals(rows, self.totals_columns)


def accounts_report(sources: Mapping[str, Any], start: date | str, end: date | str, **options: Any) -> AccountsReport:
    """:func:`~refundkit.analytics.report.gross_vs_net_report` of each account in ``sources`` (name: a session from
    ``refundkit.connect(account=name)``, or a store), with the same ``options``, stacked::

        sessions = {name: refundkit.connect(account=name) for name in ("br", "ar")}
        accounts_report(sessions, "2026-01-01", "2026-03-31", by="month").display_rows()
    """
    return AccountsReport({name: gross_vs_net_report(src, start, end, **options) for name, src in sources.items()})
