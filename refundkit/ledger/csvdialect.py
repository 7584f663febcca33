"""How a refunds CSV is written: its encoding, separator, decimal mark and date order — read from the file itself.

A spreadsheet saves a CSV in its own locale: a pt-BR Excel writes ``;`` between fields, ``1.234,56`` for an amount
and ``01/03/2026`` for 1 March, in Windows-1252 unless "CSV UTF-8" was chosen (which adds a byte-order mark). This
module finds each of these from the file, so that the same file is read as the person who saved it meant, and the
import's result CSV is written back the same way (:class:`CsvDialect`).

* **Encoding**: UTF-8 with or without a byte-order mark; otherwise Windows-1252 (what Excel calls "CSV" in Western
  locales; it covers Latin-1 text). A file that is neither (UTF-16, a workbook, binary) is refused.
* **Decimal mark**: the one the file's amounts show (``12,50``, ``1.234,56``, ``1,234.56``, ``10.5``); when none
  shows one (every amount whole, or like ``1.234``), the separator's convention — a ``;`` file writes a decimal
  comma, a ``,`` file a decimal point. The other mark then groups thousands. When the amounts show both marks, an
  amount that reads both ways (``1.234``) is refused rather than guessed.
* **Dates** written ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (``/``, ``.`` or ``-``) are read in the order ``--date-format``
  names; without it, in the order the file's own dates allow (a day above 12 settles it; a file whose dates show
  both orders is refused); when every date reads both ways, in the store's locale's order
  (``REFUNDKIT_STORE_LOCALE``, with a warning), else the file is refused, naming ``--date-format``. A date with a
  time of day but no zone, or a two-digit year, refuses its row. ISO dates (``2026-03-01``) are always read as
  they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ..errors import InputError
from ..money import Money

__all__ = [
    "DATE_FORMATS",
    "AmbiguousDates",
    "CsvDialect",
    "date_format_of",
    "decode_csv",
    "locale_date_format",
    "read_amounts",
    "read_dates",
]

#: The date orders a file may be read in, as ``--date-format`` names them.
DATE_FORMATS = ("dd/mm/yyyy", "mm/dd/yyyy")
#: Regions whose people write the month first (``mm/dd/yyyy``); every other region writes the day first.
_MONTH_FIRST_REGIONS = frozenset({"US", "PH", "FM", "MH", "PW", "BZ"})
_LOCALE_RE = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|\d{3}))?")
_SLASHED = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})(?:[ T]+(.*))?")
_UTF8_BOM = b"\xef\xbb\xbf"


class AmbiguousDates(InputError):
    """Every date of the file reads both as day/month and as month/day, and nothing says which it is."""

    def __init__(self, name: str, example: str, line: int) -> None:
        self.example, self.line = example, line
        super().__init__(
            f"{name}: every date in it reads both as day/month and as month/day (such as {example} on line {line}), "
            "so nothing was read; say which with --date-format dd/mm/yyyy or --date-format mm/dd/yyyy"
        )


@dataclass(frozen=True)
class CsvDialect:
    """How an uploaded CSV was written, and so how its result CSV is written back."""

    delimiter: str = ","
    decimal: str = "."  # the decimal mark of the file's amounts
    date_format: str | None = None  # "dd/mm/yyyy" or "mm/dd/yyyy" when the file writes dates so; None: ISO only
    encoding: str = "utf-8"  # "utf-8" or "cp1252"
    bom: bool = False

    def amount(self, money: Money) -> str:
        """``money`` in this file's decimal mark, without grouping (``1234,56``): a spreadsheet reads it as a number."""
        return money.decimal_str().replace(".", self.decimal)

    def encode(self, text: str) -> bytes:
        """``text`` in this file's encoding, with its byte-order mark when it had one."""
        if self.encoding == "cp1252":
            return text.encode("cp1252", errors="replace")  # only refundkit's own words can fall outside it
        return (_UTF8_BOM if self.bom else b"") + text.encode("utf-8")


def decode_csv(data: bytes, name: str) -> tuple[str, str, bool]:
    """(text, encoding, had a byte-order mark). Refuses, saying what to do, a file that is not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            f"{name} is UTF-16 text (Excel's 'Unicode Text'): save it as 'CSV UTF-8' or 'CSV' and import again"
        )
    bom = data.startswith(_UTF8_BOM)
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if bom:
            raise InputError(
                f"{name} says it is UTF-8 but is not (byte {exc.start}): save it as 'CSV UTF-8' and import again"
            ) from None
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc2:
            raise InputError(
                f"{name} is neither UTF-8 nor Windows-1252 text (byte {exc2.start} cannot be read): save it as "
                "'CSV UTF-8' and import again"
            ) from None
    if "\x00" in text:
        raise InputError(
            f"{name} is not a CSV text file (it holds NUL bytes: a workbook, or UTF-16 text?): save it as "
            "'CSV UTF-8' and import again"
        )
    return text, encoding, bom


# -- amounts ------------------------------------------------------------------------------------------------------
def _mark_shown(text: str) -> str | None:
    """The decimal mark an amount shows by itself, or None when it shows none (``12``, ``1.234``, garbled)."""
    s = text.strip().lstrip("+-").strip()
    dots, commas = s.count("."), s.count(",")
    if dots and commas:
        return "." if s.rfind(".") > s.rfind(",") else ","
    sep = "." if dots else "," if commas else None
    if sep is None:
        return None
    other = "," if sep == "." else "."
    if s.count(sep) > 1:
        return other  # "1.234.567": the mark groups thousands, so the decimal mark is the other one
    head, tail = s.split(sep)
    if len(tail) == 3 and head.isdigit() and 1 <= len(head) <= 3 and head != "0":
        return None  # "1.234": a thousand, or one and a bit
    return sep


def _normal(text: str, mark: str) -> str | None:
    """The amount with ``.`` as its only decimal mark and no grouping, read with ``mark``; None when it cannot be."""
    s = text.strip().replace("\u00a0", " ")
    sign = ""
    if s[:1] in "+-":
        sign, s = ("-" if s[0] == "-" else ""), s[1:].strip()
    if not re.fullmatch(r"[0-9 .,']+", s):
        return None
    group = "," if mark == "." else "."
    head, _, frac = s.rpartition(mark) if mark in s else (s, "", "")
    if mark in head or (mark in s and not frac.isdigit()):
        return None
    if not re.fullmatch(r"\d+|\d{1,3}(?:[" + re.escape(group) + r" ']\d{3})+", head or "0"):
        return None
    return sign + (head.replace(group, "").replace(" ", "").replace("'", "") or "0") + (f".{frac}" if frac else "")


def read_amounts(values: list[str], delimiter: str) -> tuple[str | None, list[str | None], list[str | None]]:
    """Read every amount of a file in its decimal mark: (the mark, each amount as ``1234.56`` or as typed, each
    amount's problem or None). The mark is None when the amounts show both marks."""
    shown = {m for m in (_mark_shown(v) for v in values) if m}
    mark = shown.pop() if len(shown) == 1 else None if shown else ("," if delimiter == ";" else ".")
    out: list[str | None] = []
    problems: list[str | None] = []
    for v in values:
        own = _mark_shown(v)
        if not v.strip() or not re.search(r"[.,]", v):
            out.append(v)  # no mark to read: as typed (empty or garbled amounts are refused by the rules)
            problems.append(None)
            continue
        use = own or mark
        if use is None:
            out.append(None)
            whole = re.sub(r"[.,]", "", v.strip())
            problems.append(
                f"amount {v.strip()} reads both as a whole number and with decimals, and this file writes amounts "
                f"both with a decimal point and with a decimal comma: write it with its decimals (such as {whole},00 "
                f"or {whole}.00 for {whole})"
            )
            continue
        normal = _normal(v, use)
        if normal is None:
            out.append(None)
            example = "1.234,56" if use == "," else "1,234.56"
            name = "comma" if use == "," else "point"
            problems.append(
                f"amount {v.strip()} is not an amount as this file writes them (a decimal {name}, such as {example})"
            )
            continue
        out.append(normal)
        problems.append(None)
    return mark, out, problems


# -- dates --------------------------------------------------------------------------------------------------------
def date_format_of(text: str) -> str:
    """``--date-format``'s value checked: dd/mm/yyyy or mm/dd/yyyy (any of / . - between)."""
    key = re.sub(r"[.\-]", "/", text.strip().lower())
    if key not in DATE_FORMATS:
        raise InputError(f"date format {text!r}: use dd/mm/yyyy or mm/dd/yyyy")
    return key


def locale_date_format(locale: str | None) -> str | None:
    """The date order people of ``locale`` (such as ``pt-BR``, ``en-US``) write, or None when it does not say."""
    m = _LOCALE_RE.fullmatch((locale or "").strip())
    if not m:
        return None
    language, region = m.group(1).lower(), (m.group(2) or "").upper()
    if not region and language == "en":
        return None  # English is written both ways
    return "mm/dd/yyyy" if region in _MONTH_FIRST_REGIONS else "dd/mm/yyyy"


def read_dates(
    values: list[tuple[int, str]],
    name: str,
    *,
    date_format: str | None = None,
    locale: str | None = None,
) -> tuple[str | None, list[str | None], list[str | None], str | None]:
    """Read the file's ``dd/mm/yyyy`` or ``mm/dd/yyyy`` dates: (the order used or None, each date as ISO or as typed,
    each date's problem or None, a warning or None). ``values`` are (line, text). Raises :class:`InputError` when the
    file's dates disagree, or all read both ways and neither ``date_format`` nor ``locale`` says which."""
    parts: list[tuple[int, int, int, str] | None] = []
    day_first: list[tuple[int, str]] = []
    month_first: list[tuple[int, str]] = []
    for line, text in values:
        m = _SLASHED.fullmatch(text.strip())
        if not m:
            parts.append(None)
            continue
        a, b, c = int(m.group(1)), int(m.group(3)), m.group(4)
        parts.append((a, b, len(c), text.strip()))
        if len(c) == 4:
            if a > 12 >= b:
                day_first.append((line, text.strip()))
            elif b > 12 >= a:
                month_first.append((line, text.strip()))
    warning = None
    if date_format is not None:
        order = date_format_of(date_format)
    elif day_first and month_first:
        (l1, t1), (l2, t2) = day_first[0], month_first[0]
        raise InputError(
            f"{name}: its dates are written both day first (line {l1}: {t1}) and month first (line {l2}: {t2}); "
            "write them all one way and import again"
        )
    elif day_first or month_first:
        order = "dd/mm/yyyy" if day_first else "mm/dd/yyyy"
    elif any(p is not None for p in parts):
        default = locale_date_format(locale)
        if default is None:
            line, example = next((ln, p[3]) for (ln, _), p in zip(values, parts, strict=True) if p is not None)
            raise AmbiguousDates(name, example, line)
        order = default
        warning = f"dates read as {order} (the store's locale, {locale}): every date in the file reads both ways"
    else:
        return None, [t for _, t in values], [None] * len(values), None
    out: list[str | None] = []
    problems: list[str | None] = []
    for (_, text), p in zip(values, parts, strict=True):
        m = _SLASHED.fullmatch(text.strip())
        if p is None or m is None:
            out.append(text)
            problems.append(None)
            continue
        first, second, year, time = int(m.group(1)), int(m.group(3)), m.group(4), m.group(5)
        shown = text.strip()
        if len(year) != 4:
            out.append(None)
            problems.append(f"refunded_at {shown} is not a date as {order} writes it: write the year in full")
            continue
        if time:
            out.append(None)
            problems.append(
                f"refunded_at {shown} has a time but no time zone: give the day only, or the time in ISO 8601 with "
                "its offset (such as 2026-03-01T14:30:00-03:00)"
            )
            continue
        day, month = (first, second) if order == "dd/mm/yyyy" else (second, first)
        try:
            out.append(date(int(year), month, day).isoformat())
            problems.append(None)
        except ValueError:
            out.append(None)
            problems.append(f"refunded_at {shown} is not a real date read as {order}")
    return order, out, problems, warning
