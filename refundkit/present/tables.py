"""Rows out as CSV, JSON or an aligned text table.

CSV is opened in spreadsheets, so every text cell goes through :func:`refundkit.textsafety.neutralise_formula`;
the ``numeric`` columns (amounts) are numbers and are written as they are.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from ..textsafety import inert_json, neutralise_formula

__all__ = ["write_rows"]


def write_rows(
    out: TextIO, rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, numeric: Iterable[str] = ()
) -> None:
    numeric = set(numeric)
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_csv_cell(r.get(c), c in numeric) for c in columns])
    elif fmt == "json":
        text = json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=2, ensure_ascii=False)
        out.write(inert_json(text))  # the same JSON, with DEL and C1 controls escaped: safe on a terminal
        out.write("\n")
    elif fmt == "table":
        cells = [[str(r.get(c) if r.get(c) is not None else "") for c in columns] for r in rows]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]

        def line(values: Sequence[str]) -> str:
            return "  ".join(
                v.rjust(w) if c in numeric else v.ljust(w) for v, w, c in zip(values, widths, columns, strict=True)
            ).rstrip()

        out.write(line(columns) + "\n")
        out.write("  ".join("-" * w for w in widths) + "\n")
        for row in cells:
            out.write(line(row) + "\n")
        out.write(f"({len(rows):,} row{'s' if len(rows) != 1 else ''})\n")
    else:  # pragma: no cover - argparse restricts the choices
        raise ValueError(f"unknown format {fmt!r}")


def _csv_cell(value: Any, numeric: bool) -> Any:
    if value is None:
        return ""
    if numeric or not isinstance(value, str):
        return value
    return neutralise_formula(value)
