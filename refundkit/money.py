"""Money: an integer amount in minor units plus an ISO 4217 currency code.

Floats never appear. Decimals appear only when parsing what a person typed and when formatting for people.
VTEX sends every amount as an integer of *cents* (value x 100) whatever the currency; :func:`from_vtex_cents`
and :func:`to_vtex_cents` are the only places that conversion happens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import MAX_PREC, Context, Decimal, InvalidOperation

from .errors import AmountError, CurrencyMismatch
from .textsafety import clip

__all__ = [
    "MAX_MINOR",
    "VTEX_AMOUNT_MODES",
    "AmountError",
    "CurrencyMismatch",
    "Money",
    "currency_exponent",
    "format_minor",
    "format_money",
    "from_vtex_cents",
    "parse_amount",
    "to_vtex_cents",
]

# ISO 4217 minor-unit exponents that differ from 2. Everything else has 2.
_EXPONENTS: dict[str, int] = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
#: The largest amount refundkit accepts, in minor units: 2**53 - 1, the largest integer every JSON reader (Master
#: Data, JavaScript, a spreadsheet) holds exactly, and well inside int64. R$ 90 trillion; no refund comes close.
MAX_MINOR = 2**53 - 1
#: Longer typed amounts are refused before they are read (a 5,000-digit amount is a paste accident, not money).
_MAX_AMOUNT_CHARS = 40


# Both live in the one error tree (refundkit.errors) so that no handler lets them through as a traceback; they stay
# ValueErrors too, for code that catches those.


def _check_currency(currency: str) -> str:
    if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
        raise AmountError(f"currency must be a three-letter ISO 4217 code such as BRL, got {currency!r}")
    return currency


def currency_exponent(currency: str) -> int:
    """How many decimal places the currency has (BRL 2, JPY 0, KWD 3)."""
    return _EXPONENTS.get(_check_currency(currency), 2)


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount of one currency, in minor units (``Money(1234, "BRL")`` is R$ 12.34)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError(f"Money.minor must be an int of minor units, got {type(self.minor).__name__}")
        _check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        return cls(parse_amount(text, currency), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def decimal_str(self) -> str:
        """``"123.45"``: major units with the currency's decimals, no symbol, no grouping."""
        return format_minor(self.minor, self.currency)

    def __str__(self) -> str:
        return f"{self.currency} {self.decimal_str()}"


def format_minor(minor: int, currency: str) -> str:
    """Format minor units as major units with exactly the currency's decimals: ``12345, "BRL" -> "123.45"``."""
    exp = currency_exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}" if exp else f"{sign}{whole}"


def format_money(minor: int, currency: str) -> str:
    """Money for people to read: the currency code and major units with thousands grouped,
    ``123456, "BRL" -> "BRL 1,234.56"`` (``"BRL -1,234.56"`` when negative). Exact: integer arithmetic only."""
    exp = currency_exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10**exp)
    return f"{currency} {sign}{whole:,}" + (f".{frac:0{exp}d}" if exp else "")


_AMOUNT_RE = re.compile(r"^[+-]?(\d+|\d{1,3}(?:[ ,.'\u00a0]\d{3})+)?(?:[.,](\d+))?$")


def parse_amount(text: str | int | Decimal, currency: str) -> int:
    """Read an amount in major units as minor units of ``currency``.

    Accepts a decimal point or a decimal comma (``"12.34"``, ``"12,34"``), thousands separators when a decimal
    separator of the other kind follows (``"1.234,56"``, ``"1,234.56"``) and surrounding spaces. Refuses more
    decimals than the currency has, signs other than a plain leading minus, exponents, NaN and empty text, with a
    message that says what to type instead.
    """
    exp = currency_exponent(currency)
    if isinstance(text, bool):
        raise AmountError(f"amount must be a number, got {text!r}")
    if isinstance(text, int):
        return _bounded(int(text * 10**exp), currency, str(text))
    if isinstance(text, Decimal):
        raw = format(text, "f")
    elif isinstance(text, str):
        raw = text
    else:
        raise AmountError(f"amount must be text such as '12.34', got {type(text).__name__}")
    s = raw.strip().replace("\u00a0", " ")
    if not s:
        raise AmountError("amount is empty: type an amount such as 12.34")
    if len(s) > _MAX_AMOUNT_CHARS:
        raise AmountError(
            f"the amount typed is {len(s):,} characters long; no refund is that large: "
            f"type an amount such as 12.34 (at most {format_minor(MAX_MINOR, currency)})"
        )
    neg = s.startswith("-")
    body = s[1:].strip() if s[0] in "+-" else s
    normal = _normalise_separators(body)
    if normal is None:
        raise AmountError(f"{raw!r} is not an amount: type digits with at most one decimal separator, such as 12.34")
    try:
        value = Decimal(normal)
    except InvalidOperation:
        raise AmountError(f"{raw!r} is not an amount: type digits such as 12.34") from None
    if not value.is_finite():
        raise AmountError(f"{raw!r} is not an amount")
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    frac_digits = len(normal.split(".", 1)[1]) if "." in normal else 0
    if max(places, frac_digits) > exp:
        if exp == 0:
            raise AmountError(f"{raw!r} has decimals, but {currency} has none: type a whole number")
        raise AmountError(f"{raw!r} has more than {exp} decimals, which {currency} does not have")
    minor = int(value.scaleb(exp, Context(prec=MAX_PREC)))  # exact: the default 28 digits would round
    return _bounded(-minor if neg else minor, currency, raw)


def _bounded(minor: int, currency: str, raw: str) -> int:
    if abs(minor) > MAX_MINOR:
        raise AmountError(
            f"{clip(raw, 30)} is too large: refundkit takes amounts up to {format_minor(MAX_MINOR, currency)} "
            f"{currency}; check the amount"
        )
    return minor


def _normalise_separators(body: str) -> str | None:
    """Return the amount with '.' as the only decimal separator and no grouping, or None if ambiguous/garbled."""
    if not body or not re.fullmatch(r"[0-9 .,'\u00a0]+", body) or (not body[0].isdigit() and body[0] not in ".,"):
        return None
    last_dot, last_comma = body.rfind("."), body.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        dec = "." if last_dot > last_comma else ","
        group = "," if dec == "." else "."
        int_part, frac = body.rsplit(dec, 1)
        if not re.fullmatch(r"\d{1,3}(?:[" + re.escape(group) + r" ']\d{3})*", int_part):
            return None
        return int_part.replace(group, "").replace(" ", "").replace("'", "") + "." + frac if frac.isdigit() else None
    sep = "." if last_dot >= 0 else "," if last_comma >= 0 else None
    compact = body.replace(" ", "").replace("'", "")
    if " " in body or "'" in body:
        # spaces/apostrophes only as thousands groups
        int_part = body.rsplit(sep, 1)[0] if sep and body.count(sep) == 1 else body
        if not re.fullmatch(r"\d{1,3}(?:[ ']\d{3})*", int_part):
            return None
    if sep is None:
        return compact if compact.isdigit() else None
    if compact.count(sep) > 1:
        return None  # "1.234.567" is ambiguous without a decimal part: refuse rather than guess
    int_part, frac = compact.split(sep)
    if not frac.isdigit() or (int_part and not int_part.isdigit()):
        return None
    return (int_part or "0") + "." + frac


#: How VTEX may send amounts of currencies with fewer than 2 decimals (CLP, JPY, PYG…). VTEX's specs say "cents"
#: of every amount, so CLP 1.500 would be ``150000`` (``"cents"``, the default); nobody documents whether a real
#: account does that, so ``"units"`` (CLP 1.500 sent as ``1500``) can be chosen with
#: ``REFUNDKIT_ZERO_DECIMAL_AMOUNTS=units``. ``refundkit doctor`` shows one real order's figures to decide.
VTEX_AMOUNT_MODES = ("cents", "units")


def from_vtex_cents(cents: int, currency: str, mode: str = "cents") -> int:
    """VTEX amounts are integer cents (x100) for every currency; convert to the currency's minor units.

    For 2-decimal currencies this is the identity. In ``mode="cents"`` a JPY value of 1500 cents is 15 yen, and a
    value that is not a whole number of yen is refused rather than rounded — with a message that points at
    ``REFUNDKIT_ZERO_DECIMAL_AMOUNTS=units``, the reading where VTEX sends 1500 for 1500 yen.
    """
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise AmountError(f"VTEX amount must be an integer of cents, got {cents!r}")
    if mode not in VTEX_AMOUNT_MODES:
        raise ValueError(f"mode must be one of {VTEX_AMOUNT_MODES}, got {mode!r}")
    exp = currency_exponent(currency)
    if exp == 2:
        return cents
    if exp > 2:
        return int(cents * 10 ** (exp - 2))
    if mode == "units":
        return cents
    q, r = divmod(cents, 10 ** (2 - exp))
    if r:
        raise AmountError(
            f"VTEX amount {cents} is not a whole number of {currency} in cents (x100); if this account sends "
            f"{currency} amounts in whole units, set REFUNDKIT_ZERO_DECIMAL_AMOUNTS=units"
        )
    return int(q)


def to_vtex_cents(minor: int, currency: str, mode: str = "cents") -> int:
    """The inverse of :func:`from_vtex_cents`."""
    exp = currency_exponent(currency)
    if exp < 2 and mode == "units":
        return minor
    if exp <= 2:
        return int(minor * 10 ** (2 - exp))
    q, r = divmod(minor, 10 ** (exp - 2))
    if r:
        raise AmountError(f"{format_minor(minor, currency)} {currency} cannot be expressed in VTEX cents")
    return int(q)
