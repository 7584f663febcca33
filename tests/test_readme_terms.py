"""The README defines the report's columns in the same words as the XLSX's Definitions sheet (``totals.TERMS``)."""

from __future__ import annotations

import re
from pathlib import Path

from refundkit.analytics.totals import TERMS

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_terms() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("**Columns in words.**") : text.index("**Totals.** Every report")]
    items = re.split(r"\n- ", "\n" + block.split("\n\n", 1)[1].strip())[1:]
    out = []
    for item in items:
        m = re.fullmatch(r"\*\*(.+?)\*\*: (.*)", " ".join(part.strip() for part in item.splitlines()), re.S)
        assert m, item
        out.append((m.group(1), m.group(2)))
    return out


def test_the_readme_defines_every_column_as_the_definitions_sheet_does() -> None:
    assert readme_terms() == list(TERMS)
