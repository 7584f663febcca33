"""The price paid per order line: whatever item price fields the account sends (the sandbox's ``item_prices``
variants), each line's price paid is what its units cost after every discount, and an order's lines add up to its
``Items`` + ``Discounts`` totals."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundkit.config import load_settings
from refundkit.sandbox.config import ItemPrices
from refundkit.sandbox.orderdetail import item_shape
from refundkit.sandbox.variables import sandbox_variables
from refundkit.vtex import VtexClient
from refundkit.vtex.models import Order, _line_paid, allocate
from refundkit.vtex.transport import RetryPolicy


@pytest.mark.parametrize("variant", get_args(ItemPrices))
def test_each_line_paid_its_units_after_every_discount_under_every_variant(
    sandbox_factory: Any, tmp_path: Any, variant: str
) -> None:
    served = sandbox_factory(item_prices=variant)
    env = {**sandbox_variables(served.srv.base_url, served.sb.config), "REFUNDKIT_CACHE_DIR": str(tmp_path)}
    client = VtexClient(load_settings(env=env, env_file=False), retry=RetryPolicy.fast())
    try:
        orders = served.sb.store.orders
        split = [o for o in orders if len(item_shape(o).lines) > len(o.items)][:8]
        promoted = [
            o for o in orders if item_shape(o).promotion and sum(i.price > i.selling_price for i in o.items) >= 2
        ][:8]
        discounted = [o for o in orders if any(i.price > i.selling_price for i in o.items)][:8]
        gifted = [o for o in orders if item_shape(o).gift is not None][:4]
        assert split and promoted and discounted and gifted
        for o in [*split, *promoted, *discounted, *gifted, *orders[::50]]:
            order = client.orders.get(o.order_id)
            shape = item_shape(o)
            gift = [0] if shape.gift is not None else []
            # independent: each JSON line's units at the summary's selling price (every discount taken off)
            expected = [o.items[k].selling_price * units for k, units in shape.lines] + gift
            assert [it.paid_total.minor for it in order.items] == expected, o.order_id
            assert sum(expected) == o.items_cents + o.discounts_cents
            assert [it.quantity for it in order.items] == [units for _, units in shape.lines] + [1] * len(gift)
            assert [it.line_index for it in order.items] == list(range(len(expected)))
            assert [it.is_gift for it in order.items] == [False] * len(shape.lines) + [True] * len(gift)
    finally:
        client.close()


def _line(qty: int, selling: int, *, price: int | None = None, total: int | None = None, tags: int = 0) -> dict:
    line: dict[str, Any] = {"quantity": qty, "sellingPrice": selling, "price": selling if price is None else price}
    if total is not None:
        line["priceDefinition"] = {"total": total}
    if tags:
        line["priceTags"] = [{"name": "discount@price-x", "value": -tags}]
    return line


def test_the_rule_trusts_price_definition_then_selling_price_then_price_tags() -> None:
    # priceDefinition.total stands when the lines add up to the totals
    assert _line_paid([_line(2, 500, total=900)], {"Items": 1000, "Discounts": -100}) == [900]
    # no priceDefinition: sellingPrice × quantity
    assert _line_paid([_line(2, 450)], {"Items": 1000, "Discounts": -100}) == [900]
    # sellingPrice before an order-level promotion: price × quantity less the line's discount tags
    lines = [_line(2, 500, tags=100), _line(1, 300)]
    assert _line_paid(lines, {"Items": 1300, "Discounts": -100}) == [900, 300]
    # nothing explains the totals: the difference is spread in proportion, exactly
    assert _line_paid([_line(1, 1000), _line(1, 500)], {"Items": 1500, "Discounts": -300}) == [800, 400]
    # a gift paid nothing, whatever its fields say
    gift = {**_line(1, 700), "isGift": True}
    assert _line_paid([_line(1, 1000), gift], {"Items": 1000, "Discounts": 0}) == [1000, 0]
    # no totals: the candidates
    assert _line_paid([_line(3, 333)], {}) == [999]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 5),
            st.integers(0, 100_000),
            st.booleans(),
            st.integers(0, 5_000),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 10_000),
)
def test_the_lines_always_add_up_to_the_items_and_discounts(lines: list, order_discount: int) -> None:
    raw = []
    for qty, selling, with_total, tag, gift in lines:
        item = _line(qty, selling, price=selling + tag, total=selling * qty if with_total else None, tags=tag * qty)
        if gift:
            item["isGift"] = True
        raw.append(item)
    items = sum((selling + tag) * qty for qty, selling, _w, tag, gift in lines if not gift)
    paying = sum(selling * qty for qty, selling, _w, _t, gift in lines if not gift)
    discounts = -(items - paying) - min(order_discount, paying)
    paid = _line_paid(raw, {"Items": items, "Discounts": discounts})
    assert all(p >= 0 for p in paid)
    if paying:
        assert sum(paid) == items + discounts
    assert all(p == 0 for p, line in zip(paid, lines, strict=True) if line[4])


@given(st.integers(-(10**9), 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_allocate_is_exact_and_proportional(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total and len(parts) == len(weights)
    whole = sum(weights) or len(weights)
    for p, w in zip(parts, weights if sum(weights) else [1] * len(weights), strict=True):
        assert abs(p - total * w / whole) < 1


def test_order_from_vtex_reads_unique_id_product_brand_and_category() -> None:
    body = {
        "orderId": "1-01",
        "creationDate": "2026-01-01T00:00:00Z",
        "value": 1000,
        "storePreferencesData": {"currencyCode": "BRL"},
        "totals": [{"id": "Items", "value": 1000}, {"id": "Discounts", "value": 0}],
        "items": [
            {
                "uniqueId": "U1",
                "id": "346",
                "productId": "77",
                "name": "Caneca Azul",
                "quantity": 2,
                "price": 500,
                "sellingPrice": 500,
                "additionalInfo": {"brandName": "Casa", "categories": [{"name": "Cozinha"}, {"name": "Canecas"}]},
            },
            {"id": "227", "quantity": 1},
        ],
    }
    a, b = Order.from_vtex(body).items
    assert (a.unique_id, a.product_id, a.brand, a.category, a.line_index) == ("U1", "77", "Casa", "Canecas", 0)
    assert a.paid_total.minor == 1000
    assert (b.unique_id, b.product_id, b.brand, b.category, b.line_index) == ("", "", "", "", 1)
