"""An XLSX workbook read back with the standard library only: each sheet's cells as Excel stores them (value,
formula, number format), so tests check what a spreadsheet would show and compute."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


@dataclass(frozen=True)
class Cell:
    value: str | float | None  # text, or a number; a formula's stored result
    formula: str | None  # without the leading "="
    number_format: str  # "General" when none


def _xml(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314  (a workbook the test itself just wrote, not outside input)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def ref(cell: str) -> tuple[int, int]:
    """ "B3" → (2, 1): zero-based row and column."""
    m = re.fullmatch(r"([A-Z]+)(\d+)", cell)
    assert m, cell
    return int(m.group(2)) - 1, _col_index(m.group(1))


def read_xlsx(source: bytes | Path) -> dict[str, dict[tuple[int, int], Cell]]:
    """Sheet name → {(row, column): cell}, zero-based, in workbook order."""
    data = source if isinstance(source, bytes) else source.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        strings = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in _xml(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
                strings.append("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
        styles = _xml(z.read("xl/styles.xml"))
        custom = {
            int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in styles.findall("m:numFmts/m:numFmt", NS)
        }
        xfs = [int(x.get("numFmtId", "0")) for x in styles.findall("m:cellXfs/m:xf", NS)]
        rels = {
            r.get("Id"): r.get("Target", "")
            for r in _xml(z.read("xl/_rels/workbook.xml.rels")).findall("p:Relationship", NS)
        }
        out: dict[str, dict[tuple[int, int], Cell]] = {}
        for sheet in _xml(z.read("xl/workbook.xml")).findall("m:sheets/m:sheet", NS):
            target = rels[sheet.get(f"{{{NS['r']}}}id")]
            root = _xml(z.read("xl/" + target.removeprefix("/xl/")))
            cells: dict[tuple[int, int], Cell] = {}
            for c in root.iter(f"{{{NS['m']}}}c"):
                v, f = c.find("m:v", NS), c.find("m:f", NS)
                kind = c.get("t")
                value: str | float | None
                if v is None or v.text is None:
                    value = None
                elif kind == "s":
                    value = strings[int(v.text)]
                elif kind in ("str", "inlineStr"):
                    value = v.text
                else:
                    value = float(v.text)
                fmt_id = xfs[int(c.get("s", "0"))] if xfs else 0
                cells[ref(c.get("r", ""))] = Cell(value, None if f is None else f.text, custom.get(fmt_id, "General"))
            out[sheet.get("name", "")] = cells
        return out


def grid(cells: dict[tuple[int, int], Cell]) -> list[list[Cell | None]]:
    """The sheet as rows of cells (``None`` where nothing is written)."""
    if not cells:
        return []
    height = max(r for r, _ in cells) + 1
    width = max(c for _, c in cells) + 1
    return [[cells.get((r, c)) for c in range(width)] for r in range(height)]
