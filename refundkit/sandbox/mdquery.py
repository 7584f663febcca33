"""Master Data v2 ``_where`` expressions and ``_sort``: a tokenizer, a recursive-descent parser and an evaluator.

Grammar (keywords case-insensitive)::

    expr       := and_expr ("OR" and_expr)*
    and_expr   := primary ("AND" primary)*
    primary    := "(" expr ")" | predicate
    predicate  := FIELD op value
                | FIELD "BETWEEN" value "AND" value
                | FIELD "IS" ["NOT"] "NULL"
    op         := "=" | "<>" | ">" | "<" | ">=" | "<="
    value      := "quoted" | 'quoted' | bare          (bare: no spaces, parentheses, quotes or < = >)

``FIELD`` may name a first-level nested field (``refund.amount``). Values: numbers compare numerically when both sides
are numbers, ``true``/``false`` match booleans, everything else compares as text (so ISO dates compare as strings).
``*`` in a value of ``=``/``<>`` is a wildcard (``name=*abc*``). A field holding a list matches when any element does.
``field<>value`` is true when the field is absent (a negated match, as the search engine does).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "Node", "WhereError", "get_field", "parse_sort", "parse_where", "sort_documents"]


class WhereError(ValueError):
    """A ``_where`` or ``_sort`` expression cannot be read; the message names the problem and where it is."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_FIELD_RE = re.compile(r"^[A-Za-z_][\w\-]*(\.[A-Za-z_][\w\-]*)?$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_KEYWORDS = {"and", "or", "between", "is", "not", "null"}
_OPS = ("<>", ">=", "<=", "=", ">", "<")


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "string", "op", "(", ")", "end"
    text: str
    pos: int

    def is_kw(self, word: str) -> bool:
        return self.kind == "word" and self.text.lower() == word

    def describe(self) -> str:
        return "the end of the expression" if self.kind == "end" else f"{self.text!r} at position {self.pos}"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append(_Token(c, c, i))
            i += 1
        elif c in "<>=!":
            for op in _OPS:
                if text.startswith(op, i):
                    tokens.append(_Token("op", op, i))
                    i += len(op)
                    break
            else:
                raise WhereError(f"unknown operator {text[i : i + 2]!r} at position {i}; use =, <>, >, <, >= or <=")
        elif c in "\"'":
            j, out = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                out.append(text[j])
                j += 1
            if j >= n:
                raise WhereError(f"the quote opened at position {i} is never closed")
            tokens.append(_Token("string", "".join(out), i))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "()<>=!\"'":
                j += 1
            tokens.append(_Token("word", text[i:j], i))
            i = j
    tokens.append(_Token("end", "", n))
    return tokens


@dataclass(frozen=True)
class Literal:
    text: str
    quoted: bool
    wildcards: str = "case-sensitive"  # what a ``*`` in it does (refundkit.sandbox.config.Wildcards)

    @property
    def number(self) -> float | int | None:
        if _NUMBER_RE.match(self.text):
            f = float(self.text)
            return int(self.text) if re.fullmatch(r"[+-]?\d+", self.text) else f
        return None


class Node:
    def matches(self, doc: dict[str, Any]) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def fields(self) -> set[str]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Or(Node):
    parts: tuple[Node, ...]

    def matches(self, doc: dict[str, Any]) -> bool:
        return any(p.matches(doc) for p in self.parts)

    def fields(self) -> set[str]:
        return set().union(*(p.fields() for p in self.parts))


@dataclass(frozen=True)
class And(Node):
    parts: tuple[Node, ...]

    def matches(self, doc: dict[str, Any]) -> bool:
        return all(p.matches(doc) for p in self.parts)

    def fields(self) -> set[str]:
        return set().union(*(p.fields() for p in self.parts))


@dataclass(frozen=True)
class Compare(Node):
    field: str
    op: str
    value: Literal

    def matches(self, doc: dict[str, Any]) -> bool:
        v = get_field(doc, self.field)
        if self.op == "<>":
            return not _any_value(v, lambda x: _compare(x, "=", self.value))
        return _any_value(v, lambda x: _compare(x, self.op, self.value))

    def fields(self) -> set[str]:
        return {self.field}


@dataclass(frozen=True)
class Between(Node):
    field: str
    low: Literal
    high: Literal

    def matches(self, doc: dict[str, Any]) -> bool:
        v = get_field(doc, self.field)
        return _any_value(v, lambda x: _compare(x, ">=", self.low) and _compare(x, "<=", self.high))

    def fields(self) -> set[str]:
        return {self.field}


@dataclass(frozen=True)
class IsNull(Node):
    field: str
    negated: bool

    def matches(self, doc: dict[str, Any]) -> bool:
        v = get_field(doc, self.field)
        is_null = v is MISSING or v is None
        return not is_null if self.negated else is_null

    def fields(self) -> set[str]:
        return {self.field}


def get_field(doc: dict[str, Any], field: str) -> Any:
    """The value of ``field`` (``a`` or ``a.b``) in ``doc``; :data:`MISSING` when absent."""
    head, _, rest = field.partition(".")
    v = doc.get(head, MISSING) if isinstance(doc, dict) else MISSING
    if rest:
        if isinstance(v, dict):
            return v.get(rest, MISSING)
        if isinstance(v, list):
            vals = [x.get(rest, MISSING) for x in v if isinstance(x, dict)]
            return [x for x in vals if x is not MISSING] or MISSING
        return MISSING
    return v


def _any_value(v: Any, test: Callable[[Any], bool]) -> bool:
    if v is MISSING or v is None:
        return False
    if isinstance(v, list):
        return any(test(x) for x in v if x is not None)
    return bool(test(v))


def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", flags)


def _compare(v: Any, op: str, lit: Literal) -> bool:
    a: Any  # a number with a number, or text with text
    b: Any
    if isinstance(v, bool):
        t = lit.text.lower()
        if t not in ("true", "false") or op not in ("=",):
            return False
        return v is (t == "true")
    if isinstance(v, (int, float)):
        num = lit.number
        if num is None:
            return False
        a, b = v, num
    elif isinstance(v, str):
        if op == "=" and "*" in lit.text and lit.wildcards != "literal":
            return bool(_wildcard(lit.text, lit.wildcards == "case-insensitive").match(v))
        a, b = v, lit.text
    else:
        return False
    if op == "=":
        return bool(a == b)
    if op == ">":
        return bool(a > b)
    if op == "<":
        return bool(a < b)
    if op == ">=":
        return bool(a >= b)
    if op == "<=":
        return bool(a <= b)
    return False  # pragma: no cover - <> is handled by the caller


class _Parser:
    def __init__(self, text: str, wildcards: str = "case-sensitive") -> None:
        self.wildcards = wildcards
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise WhereError("the _where expression is empty")
        node = self.or_expr()
        t = self.peek()
        if t.kind != "end":
            raise WhereError(f"unexpected {t.describe()}; join conditions with AND or OR")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek().is_kw("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.primary()]
        while self.peek().is_kw("and"):
            self.take()
            parts.append(self.primary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def primary(self) -> Node:
        t = self.peek()
        if t.kind == "(":
            self.take()
            node = self.or_expr()
            close = self.take()
            if close.kind != ")":
                raise WhereError(f"expected ')' to close the '(' at position {t.pos}, found {close.describe()}")
            return node
        return self.predicate()

    def field(self) -> str:
        t = self.take()
        if t.kind != "word" or t.text.lower() in _KEYWORDS:
            raise WhereError(f"expected a field name, found {t.describe()}")
        if not _FIELD_RE.match(t.text):
            if t.text.count(".") > 1:
                raise WhereError(f"field {t.text!r} at position {t.pos} is nested more than one level")
            raise WhereError(f"{t.text!r} at position {t.pos} is not a field name")
        return t.text

    def value(self) -> Literal:
        t = self.take()
        if t.kind in ("string", "word") and "*" in t.text and self.wildcards == "refused":
            raise WhereError(f"wildcard searches are not available: {t.text!r} at position {t.pos}")
        if t.kind == "string":
            return Literal(t.text, True, self.wildcards)
        if t.kind == "word":
            if t.text.lower() == "null":
                raise WhereError(f"compare with null using 'is null' or 'is not null' (position {t.pos})")
            return Literal(t.text, False, self.wildcards)
        raise WhereError(f"expected a value, found {t.describe()}")

    def predicate(self) -> Node:
        field = self.field()
        t = self.take()
        if t.kind == "op":
            return Compare(field, t.text, self.value())
        if t.is_kw("between"):
            low = self.value()
            and_ = self.take()
            if not and_.is_kw("and"):
                raise WhereError(f"'{field} between' needs 'A AND B', found {and_.describe()}")
            return Between(field, low, self.value())
        if t.is_kw("is"):
            nxt = self.take()
            negated = nxt.is_kw("not")
            if negated:
                nxt = self.take()
            if not nxt.is_kw("null"):
                raise WhereError(
                    f"expected 'null' after '{field} is{' not' if negated else ''}', found {nxt.describe()}"
                )
            return IsNull(field, negated)
        raise WhereError(
            f"expected an operator (=, <>, >, <, >=, <=, between, is) after {field!r}, found {t.describe()}"
        )


def parse_where(text: str, wildcards: str = "case-sensitive") -> Node:
    """Parse a ``_where`` expression; :class:`WhereError` names what is wrong. ``wildcards``: what a ``*`` in a
    value does (refundkit.sandbox.config.Wildcards)."""
    return _Parser(text, wildcards).parse()


def simple_filter(field: str, value: str, wildcards: str = "case-sensitive") -> Node:
    """``?field=value`` on a search: an equality (wildcards as ``wildcards`` says)."""
    if not _FIELD_RE.match(field):
        raise WhereError(f"{field!r} is not a field name")
    if "*" in value and wildcards == "refused":
        raise WhereError(f"wildcard searches are not available: {value!r}")
    return Compare(field, "=", Literal(value, True, wildcards))


def parse_sort(text: str) -> tuple[str, bool]:
    """``"field ASC"`` / ``"field DESC"`` (direction optional, ASC) -> (field, descending)."""
    parts = text.split()
    if not parts or len(parts) > 2:
        raise WhereError(f"_sort must be '<field> ASC' or '<field> DESC', got {text!r}")
    if not _FIELD_RE.match(parts[0]):
        raise WhereError(f"_sort: {parts[0]!r} is not a field name")
    direction = parts[1].upper() if len(parts) == 2 else "ASC"
    if direction not in ("ASC", "DESC"):
        raise WhereError(f"_sort direction must be ASC or DESC, got {parts[1]!r}")
    return parts[0], direction == "DESC"


def _sort_key(v: Any) -> tuple[Any, ...]:
    if isinstance(v, list):
        v = v[0] if v else MISSING
    if isinstance(v, bool):
        return (2, int(v))
    if isinstance(v, (int, float)):
        return (0, v)
    if isinstance(v, str):
        return (1, v)
    return (3, str(v))


def sort_documents(
    docs: list[dict[str, Any]], field: str, descending: bool, ties: Callable[[str], Any] | None = None
) -> list[dict[str, Any]]:
    """Sorted by ``field`` (documents without it last), ties by id ascending, or by ``ties(id)`` when given."""
    by_id = sorted(docs, key=lambda d: str(d.get("id", "")) if ties is None else ties(str(d.get("id", ""))))
    present = [d for d in by_id if get_field(d, field) not in (MISSING, None)]
    absent = [d for d in by_id if get_field(d, field) in (MISSING, None)]
    present.sort(key=lambda d: _sort_key(get_field(d, field)), reverse=descending)
    return present + absent
