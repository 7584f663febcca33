"""Text that leaves refundkit for a spreadsheet or a terminal, and control characters in text people type.

Spreadsheets: neutralise what a spreadsheet would run as a formula.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or a carriage return, which some spreadsheets skip
before such a sign) is read by Excel, LibreOffice and Google Sheets as a formula, so a refund reference such as
``=HYPERLINK("http://…")`` typed by anyone would run on the machine of whoever opens the export. A formula may also
start inside a cell, after a ``;``, a ``,`` or a tab: Excel in Portuguese (and every locale whose list separator is
``;``) splits a CSV line on ``;``, so ``SEMI-1;=2+3`` opens as two cells, the second a formula; a tab-separated or
comma-separated reading does the same with the others. Every CSV or spreadsheet refundkit writes passes its text
cells through :func:`neutralise_formula`; amounts are numbers, not text, and are written as they are.

Terminals: a control character (an escape sequence, a carriage return) printed raw can recolour the screen, hide a
line or rewrite what was shown before it. Free text a person types is refused when it holds one
(:func:`control_problem`, the one rule every field uses: the ledger's texts, the reversal reason, ``REFUNDKIT_USER``);
text from elsewhere (VTEX's answers, files) is made inert by :func:`inert` wherever the command line prints it.

This module imports nothing from refundkit, so every layer may use it.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FORMULA_PREFIXES", "clip", "control_problem", "inert", "inert_json", "neutralise_formula"]

#: What makes a spreadsheet read a cell as a formula: the ASCII signs, their full-width forms (which some
#: spreadsheets fold to ASCII), and the tab and carriage return that may be skipped before them.
FORMULA_PREFIXES = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
#: A formula sign after a separator a spreadsheet may split a cell on (``;``, ``,``, tab), spaces allowed between.
_INNER_FORMULA = re.compile(r"(?<=[;,\t\r\n])([ \u00a0]*)(?=[=+\-@\uff1d\uff0b\uff0d\uff20])")
#: What a cell may start with before its first piece: the apostrophe this function adds, blanks, tabs, returns.
_HEAD = re.compile(r"'?[ \u00a0\t\r]*")


def neutralise_formula(text: str) -> str:
    """``text`` made inert for a spreadsheet: a leading apostrophe when it would otherwise start a formula.

    The apostrophe is what spreadsheets themselves use to mark a cell as text; the visible value keeps every
    character. A formula sign after a ``;``, ``,``, tab or line break inside the text gets an apostrophe before it
    too, so each piece a spreadsheet may split the cell into is text. Other text is returned unchanged, and
    ``neutralise_formula`` is idempotent.

    >>> neutralise_formula('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_formula("SEMI-1;=2+3")
    "SEMI-1;'=2+3"
    >>> neutralise_formula("APC-123")
    'APC-123'
    """
    if not text:
        return text
    head = _HEAD.match(text)
    start = head.end() if head else 0
    if any(sep in text[start:] for sep in ";,\t\r\n"):
        text = text[:start] + _INNER_FORMULA.sub(r"\1'", text[start:])
    if text[0] in FORMULA_PREFIXES or text.lstrip(" \u00a0")[:1] in FORMULA_PREFIXES:
        return "'" + text
    return text


def clip(text: str, limit: int = 60) -> str:
    """``text`` as a message may quote it back: ``repr`` of at most ``limit`` characters, saying how long it was.

    A person who pasted 10 KB into a field needs to recognise it, not to read it again.

    >>> clip("1306331686122-01")
    "'1306331686122-01'"
    >>> clip("x" * 10_000, 8)
    "'xxxxxxxx…' (10,000 characters)"
    """
    if len(text) <= limit:
        return repr(text)
    quoted = repr(text[:limit])
    return f"{quoted[:-1]}…{quoted[-1]} ({len(text):,} characters)"


def control_problem(label: str, value: str, allowed: str = "") -> str | None:
    """The problem with control characters (Unicode category Cc, of any script: C0, DEL, C1) in ``value``, naming the
    first one; None when there is none but those in ``allowed``.

    >>> control_problem("reason", "typo\x1b[31m")
    'reason contains control characters, which cannot be seen (U+001B at position 5); retype it without them'
    """
    for i, c in enumerate(value):
        if c not in allowed and unicodedata.category(c) == "Cc":
            return (
                f"{label} contains control characters, which cannot be seen (U+{ord(c):04X} at position "
                f"{i + 1}); retype it without them"
            )
    return None


#: Every control character (Cc: C0, DEL, C1) but the tab and the line feed.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Those a JSON encoder writes raw (it escapes C0 itself).
_RAW_IN_JSON = re.compile("[\x7f-\x9f]")


def inert(text: str) -> str:
    """``text`` safe to print on a terminal: each control character but the tab and the line feed written as its
    escape, visibly (an escape sequence from VTEX or a file shows as ``\\x1b[31m`` and recolours nothing).

    >>> inert("ok\x1b[2J\rfake")
    'ok\\x1b[2J\\rfake'
    """
    return _CONTROLS.sub(lambda m: repr(m.group())[1:-1], text) if _CONTROLS.search(text) else text


def inert_json(text: str) -> str:
    """JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with DEL and the C1 controls escaped as
    ``\\u007f``…: the same JSON value, safe on a terminal."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
