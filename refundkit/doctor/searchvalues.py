"""Doctor checks of how this account's Master Data search answers where VTEX's documentation leaves it open — what
the Refunds listing (:mod:`refundkit.ledger.listing`) is built not to rely on, told apart on the ledger's own
entries (read only):

* ``search.ties`` — whether entries at one refunded-at millisecond come in one order on every request;
* ``search.total`` — whether ``REST-Content-Range`` states the total, and whether it is the number that match;
* ``search.wildcards`` — whether a ``*`` in a search is a wildcard, and whether it matches letters' case exactly.

With no entry recorded yet there is nothing to tell them apart on, and each row says so.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from ..errors import BadResponse, RefundkitError, VtexError
from ..ledger.listing import search_count
from ..ledger.schemas import SCHEMA_NAME
from ..vtex import VtexClient
from ..vtex.masterdata import MasterData
from .report import Check, Status

__all__ = ["SEARCH_ROWS", "search_answers"]

#: The rows these checks add (for the rows shown as skipped when the credentials fail).
SEARCH_ROWS = [
    ("search.ties", "Master Data search: entries at one millisecond"),
    ("search.total", "Master Data search: the total it states"),
    ("search.wildcards", "Master Data search: '*' and letters' case"),
]
_ALL = "refundedAtMs is not null"
_SORT = "refundedAtMs DESC"
_FIELDS = ("id", "refundedAtMs", "orderId", "externalRef")
_DEPTH = 10_000
_PLAIN = re.compile(r"^[^\"\\*()\x00-\x1f\x7f]+$")  # a reference that can be said inside a _where


def search_answers(client: VtexClient, entity: str) -> list[Check]:
    """The three rows, from the newest entries of the ledger's entity ``entity``."""
    md = client.masterdata
    try:
        newest, said = md.search_page(entity, 0, 100, where=_ALL, fields=_FIELDS, sort=_SORT, schema=SCHEMA_NAME)
    except VtexError as exc:
        return [Check(k, t, Status.SKIPPED, f"not read: {exc}", "fix the rows above") for k, t in SEARCH_ROWS]
    if not newest:
        return [
            Check(k, t, Status.SKIPPED, "not told: no refund is recorded on this account yet", "run doctor again later")
            for k, t in SEARCH_ROWS
        ]
    rows: list[Callable[[], Check]] = [
        lambda: _ties(md, entity, newest),
        lambda: _total(md, entity, said),
        lambda: _wildcards(md, entity, newest),
    ]
    return [_guarded(row, n) for n, row in enumerate(rows)]


def _guarded(row: Callable[[], Check], n: int) -> Check:
    try:
        return row()
    except RefundkitError as exc:
        key, title = SEARCH_ROWS[n]
        return Check(key, title, Status.SKIPPED, f"not told: search failed: {exc}", "run doctor again")


def _ms(doc: dict[str, Any]) -> int:
    return int(str(doc.get("refundedAtMs")))


def _ties(md: MasterData, entity: str, newest: list[dict[str, Any]]) -> Check:
    key, title = SEARCH_ROWS[0]
    groups = [(ms, len(list(run))) for ms, run in itertools.groupby(newest, key=_ms)]
    ms, n = max(groups, key=lambda g: g[1])
    if n < 2:
        return Check(
            key,
            title,
            Status.SKIPPED,
            "not told: no two of the newest 100 entries share a refunded-at millisecond",
            "nothing to do: the Refunds list reads a millisecond that a page's edge cuts whole, in either case",
        )
    where = f"{_ALL} AND refundedAtMs = {ms}"

    def ids(start: int, end: int) -> tuple[str, ...]:
        docs, _ = md.search_page(entity, start, end, where=where, fields=("id",), sort=_SORT, schema=SCHEMA_NAME)
        return tuple(str(d.get("id")) for d in docs)

    orders = {ids(0, n) for _ in range(3)}
    one_by_one = tuple(itertools.chain.from_iterable(ids(k, k + 1) for k in range(n)))
    fixed = len(orders) == 1 and one_by_one in orders
    seen = "came in one order on every request" if fixed else "came in a different order from one request to the next"
    return Check(
        key,
        title,
        Status.PASS,
        f"{n} entries at one refunded-at millisecond {seen} (the Refunds list puts them in entry-id order itself)",
        figures={"ties": "fixed" if fixed else "any", "entries": n},
    )


def _total(md: MasterData, entity: str, said: int | None) -> Check:
    key, title = SEARCH_ROWS[1]
    hint = "nothing to do: the Refunds list counts entries itself (a few more requests a page), 'about' past 10,000"
    if said is None:
        return Check(key, title, Status.WARN, "search answered no REST-Content-Range total", hint, {"total": "missing"})
    where = _ALL
    if said > _DEPTH:  # past what can be counted: a part of them that can
        docs, _ = md.search_page(
            entity, _DEPTH // 2 - 1, _DEPTH // 2, where=_ALL, fields=_FIELDS, sort=_SORT, schema=SCHEMA_NAME
        )
        if docs:
            where = f"{_ALL} AND refundedAtMs >= {_ms(docs[0])}"
    stated, counted = search_count(md, entity, where)
    part = "" if where == _ALL else " (the newest of them)"
    if stated == counted:
        return Check(
            key,
            title,
            Status.PASS,
            f"REST-Content-Range said {counted:,} entries{part}, and {counted:,} were counted"
            + (" (a cap or an estimate above that many would not show yet)" if counted < 300 else ""),
            figures={"total": "exact", "said": stated, "counted": counted},
        )
    told = "no total" if stated is None else f"{stated:,}"
    return Check(
        key,
        title,
        Status.WARN,
        f"REST-Content-Range said {told} where {counted:,} entries{part} were counted",
        hint,
        {"total": "missing" if stated is None else "differs", "said": stated, "counted": counted},
    )


def _wildcards(md: MasterData, entity: str, newest: list[dict[str, Any]]) -> Check:
    key, title = SEARCH_ROWS[2]
    refs = [str(d.get("externalRef") or "") for d in newest]
    lettered = [r for r in refs if len(r) >= 3 and _PLAIN.match(r) and any(c.isalpha() for c in r)]
    usable = lettered or [r for r in refs if len(r) >= 3 and _PLAIN.match(r)]
    if not usable:
        return Check(key, title, Status.SKIPPED, "not told: no usable reference among the newest entries")
    ref = usable[0]
    piece = ref[1:-1]

    def finds(value: str) -> bool:
        where = f'{_ALL} AND externalRef="{value}"'
        docs, _ = md.search_page(entity, 0, 100, where=where, fields=_FIELDS, sort=_SORT, schema=SCHEMA_NAME)
        return any(str(d.get("externalRef")) == ref for d in docs)

    try:
        wild = finds(f"*{piece}*")
    except BadResponse as exc:
        if exc.status != 400:
            raise
        wild = None
    if not wild:
        how = "refused" if wild is None else "literal"
        seen = "refused a search with '*' (400)" if wild is None else "found nothing with '*': it is no wildcard here"
        return Check(
            key,
            title,
            Status.WARN,
            f"search {seen}",
            "the Refunds list and `refundkit refunds --search` find only an order id or reference typed whole, "
            "and say so",
            {"wildcards": how},
        )
    if piece.swapcase() == piece:
        return Check(
            key,
            title,
            Status.PASS,
            "'*' is a wildcard; letters' case not told (no reference with letters among the newest entries)",
            figures={"wildcards": "wildcard"},
        )
    if finds(f"*{piece.swapcase()}*"):
        return Check(
            key,
            title,
            Status.PASS,
            "'*' is a wildcard, and it matches letters in either case",
            figures={"wildcards": "case-insensitive"},
        )
    return Check(
        key,
        title,
        Status.WARN,
        "'*' is a wildcard, but it matches letters' case exactly",
        "search finds a reference typed as it was recorded, in capitals or in small letters (all three are asked), "
        "not in another mix",
        {"wildcards": "case-sensitive"},
    )
