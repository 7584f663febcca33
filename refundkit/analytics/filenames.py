"""The names of the files a report is saved as: what they hold, the days, the attribution and the time zone.

>>> report_file_name(rep, "xlsx")  # doctest: +SKIP
'refunds-report_2026-11_refund-date_America-Sao_Paulo.xlsx'
>>> detail_file_name(rep, detail, "csv")  # doctest: +SKIP
'refunds-detail_2026-11-02_2026-11-08_BRL_refund-date_America-Sao_Paulo.csv'

One place names every file: the desk's report downloads, its drill-down downloads, the Refunds tab's export and
``refundkit report -o FOLDER``. The days read ``2026-11`` for one whole calendar month, ``2026-11-05`` for one day,
else the first and the last day (``2026-09-01_2026-11-30``). A name holds only letters, digits, ``-``, ``_``, ``+``
and ``.``: a zone's ``/`` becomes ``-``, so the name is a valid file name on Windows, macOS and Linux.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from .engine import period_labels
from .report import Report, ReportDetail

__all__ = ["detail_days", "detail_file_name", "file_name", "list_file_name", "range_label", "report_file_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_+.-]+")


def range_label(first: date, last: date) -> str:
    """The days ``first`` to ``last`` (both included) as a name says them: ``2026-11`` (one whole month),
    ``2026-11-05`` (one day), else ``2026-09-01_2026-11-30``."""
    if first == last:
        return first.isoformat()
    if first.day == 1 and last.month == first.month and last.year == first.year and (last + timedelta(days=1)).day == 1:
        return f"{first:%Y-%m}"
    return f"{first.isoformat()}_{last.isoformat()}"


def _safe(part: str) -> str:
    return _UNSAFE.sub("-", part).strip("-.") or "-"


def file_name(
    what: str, first: date | None, last: date | None, *parts: str, attribution: str = "", tz: str, extension: str
) -> str:
    """``what_days[_part…][_attribution]_zone.extension``, every part safe in a file name; days open at one end
    read ``since-2026-03-01`` or ``until-2026-03-31``, at both ``all-dates``."""
    if first is not None and last is not None:
        days = range_label(first, last)
    else:
        days = f"since-{first}" if first else f"until-{last}" if last else "all-dates"
    words = [what, days, *parts, attribution.replace("_", "-"), tz]
    return "_".join(_safe(w) for w in words if w) + "." + _safe(extension.lstrip("."))


def list_file_name(first: date | None, last: date | None, tz: str, extension: str) -> str:
    """The list of refunds recorded (the desk's Refunds tab): ``refunds-list_2026-03_America-Sao_Paulo.csv``."""
    return file_name("refunds-list", first, last, tz=tz, extension=extension)


def _days(report: Report) -> tuple[date, date]:
    p = report.parameters
    return date.fromisoformat(p["from"]), date.fromisoformat(p["to"])


def report_file_name(report: Report, extension: str) -> str:
    """The report's file: ``refunds-report_2026-11_refund-date_America-Sao_Paulo.xlsx``; a comparison adds what it
    is compared with (``…_2026-11_vs-previous_…``)."""
    p = report.parameters
    first, last = _days(report)
    compare = f"vs-{p['compare']}" if p.get("compare") else ""
    return file_name(
        "refunds-report", first, last, compare, attribution=p["attribution"], tz=p["tz"], extension=extension
    )


def detail_days(report: Report, detail: ReportDetail) -> tuple[date, date]:
    """The days of the report's range that the drill-down's period covers (a first or last period cut by the
    range holds only the range's days)."""
    first, last = _days(report)
    labels = period_labels(first, last, report.parameters["by"])
    later = [d for d in labels if d > detail.period]
    end = later[0] - timedelta(days=1) if later else last
    return max(detail.period, first), min(end, last)


def detail_file_name(report: Report, detail: ReportDetail, extension: str) -> str:
    """A drill-down's file: ``refunds-detail_2026-11-02_2026-11-08_BRL_refund-date_America-Sao_Paulo.csv`` (the
    period's days, its currency when it has one)."""
    p = report.parameters
    first, last = detail_days(report, detail)
    return file_name(
        "refunds-detail",
        first,
        last,
        detail.currency or "",
        attribution=p["attribution"],
        tz=p["tz"],
        extension=extension,
    )
