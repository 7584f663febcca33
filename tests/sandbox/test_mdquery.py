"""The ``_where`` parser and evaluator, and ``_sort``."""

from __future__ import annotations

import pytest

from refundkit.sandbox.mdquery import WhereError, parse_sort, parse_where, sort_documents

DOC = {
    "id": "r1",
    "orderId": "1306331686122-01",
    "amount": 1500,
    "ratio": 0.5,
    "currency": "BRL",
    "status": "recorded",
    "name": "Refund for Ana Lima",
    "createdAt": "2026-03-01T12:00:00Z",
    "done": True,
    "note": None,
    "tags": ["offline", "pix"],
    "meta": {"source": "csv", "row": 7},
    "version": 3,
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("amount=1500", True),
        ("amount=1500.0", True),
        ("amount<>1500", False),
        ("amount>1000", True),
        ("amount<1000", False),
        ("amount>=1500", True),
        ("amount<=1499", False),
        ('amount="1500"', True),  # a quoted number still compares with a number
        ("ratio<1", True),
        ("currency=BRL", True),
        ("currency='BRL'", True),
        ('currency="brl"', False),  # text comparison is case-sensitive
        ("currency<>USD", True),
        ("missing<>USD", True),  # a negated match includes documents without the field
        ("missing=USD", False),
        ("status=recorded AND currency=BRL", True),
        ("status=recorded and currency=USD", False),
        ("status=voided OR currency=BRL", True),
        ("(status=voided OR currency=USD) AND amount>1", False),
        ("status=voided OR (currency=BRL AND amount>1)", True),
        ("amount between 1000 AND 2000", True),
        ("amount BETWEEN 1500 and 1500", True),
        ("amount between 1501 AND 2000", False),
        ("createdAt between 2026-03-01 AND 2026-03-02", True),  # ISO dates compare as text
        ("createdAt>2026-03-01T11:59:59Z", True),
        ("createdAt<'2026-03-01T12:00:00Z'", False),
        ("note is null", True),
        ("missing IS NULL", True),
        ("name is not null", True),
        ("note is not null", False),
        ("name=*Ana*", True),
        ("name=Refund*", True),
        ("name=*Lima", True),
        ("name=*Bruno*", False),
        ('name="Refund for Ana Lima"', True),
        ("done=true", True),
        ("done=false", False),
        ("tags=pix", True),  # any element of a list
        ("tags=boleto", False),
        ("meta.source=csv", True),
        ("meta.row>5", True),
        ("version=3 AND orderId=1306331686122-01", True),
        ("  version = 3  ", True),
    ],
)
def test_where_cases(expr, expected):
    assert parse_where(expr).matches(DOC) is expected


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("", "empty"),
        ("amount", "operator"),
        ("amount=", "value"),
        ("=5", "field"),
        ("amount=1 AND", "field"),
        ("(amount=1", "')'"),
        ("amount=1)", "unexpected"),
        ("amount=1 currency=BRL", "AND or OR"),
        ("amount between 1 2", "AND"),
        ("note is nothing", "null"),
        ("amount!5", "operator"),
        ("name='open", "never closed"),
        ("a.b.c=1", "nested"),
        ("amount=null", "is null"),
    ],
)
def test_bad_expressions_name_the_problem(expr, fragment):
    with pytest.raises(WhereError) as exc:
        parse_where(expr)
    assert fragment in str(exc.value)


def test_fields_used_by_an_expression():
    assert parse_where("a=1 AND (b.c=2 OR d is null) AND e between 1 AND 2").fields() == {"a", "b.c", "d", "e"}


def test_sort_parsing_and_order():
    assert parse_sort("amount DESC") == ("amount", True)
    assert parse_sort("amount asc") == ("amount", False)
    assert parse_sort("amount") == ("amount", False)
    for bad in ("", "amount UP", "a b c", "1x ASC"):
        with pytest.raises(WhereError):
            parse_sort(bad)
    docs = [{"id": "c", "v": 2}, {"id": "a", "v": 1}, {"id": "b", "v": 2}, {"id": "d"}]
    assert [d["id"] for d in sort_documents(docs, "v", False)] == ["a", "b", "c", "d"]
    assert [d["id"] for d in sort_documents(docs, "v", True)] == ["b", "c", "a", "d"]  # ties by id, missing last
