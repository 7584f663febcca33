"""Parsing VTEX JSON into typed records: exact 7-digit dates, money as integers, strictness where money is."""

from __future__ import annotations

import copy

import pytest

from refundkit.errors import BadResponse
from refundkit.money import Money
from refundkit.timeutil import parse_instant
from refundkit.vtex.models import Note, Order, OrderSummary

ROW = {
    "orderId": "1306331686122-01",
    "creationDate": "2026-03-01T12:34:56.1234567-03:00",
    "clientName": "Ana Silva",
    "items": None,
    "totalValue": 24999,
    "paymentNames": "Visa",
    "status": "invoiced",
    "statusDescription": "Faturado",
    "marketPlaceOrderId": None,
    "sequence": "501456",
    "salesChannel": "1",
    "affiliateId": "",
    "origin": "Marketplace",
    "workflowInErrorState": False,
    "currencyCode": "BRL",
}

ORDER = {
    "orderId": "1306331686122-01",
    "sequence": "501456",
    "status": "invoiced",
    "salesChannel": "1",
    "origin": "Marketplace",
    "creationDate": "2026-03-01T12:34:56.1234567-03:00",
    "value": 24999,
    "totals": [
        {"id": "Items", "name": "Total dos Itens", "value": 25990},
        {"id": "Discounts", "name": "Total dos Descontos", "value": -2990},
        {"id": "Shipping", "name": "Total do Frete", "value": 1999},
        {"id": "Tax", "name": "Total da Taxa", "value": 0},
    ],
    "items": [{"id": "123", "name": "Tênis Corrida Leve", "quantity": 1, "price": 25990, "sellingPrice": 22999}],
    "paymentData": {
        "transactions": [
            {
                "isActive": True,
                "transactionId": "T1",
                "payments": [
                    {"id": "P1", "paymentSystemName": "Visa", "group": "creditCard", "value": 20000, "installments": 3},
                    {
                        "id": "P2",
                        "paymentSystemName": "Gift card",
                        "group": "giftCard",
                        "value": 4999,
                        "installments": 1,
                    },
                ],
            }
        ]
    },
    "packageAttachment": {
        "packages": [
            {
                "type": "Output",
                "invoiceNumber": "NF-1",
                "invoiceValue": 24999,
                "issuanceDate": "2026-03-02T10:00:00.0000000+00:00",
            },
            {
                "type": "Input",
                "invoiceNumber": "NF-R1",
                "invoiceValue": 5000,
                "issuanceDate": "2026-03-10T09:15:00.1000001+00:00",
                "restitutions": {"Refund": {"value": 5000}},
            },
            {"type": "Input", "invoiceNumber": "NF-R2", "invoiceValue": 1999, "issuanceDate": None},
        ]
    },
    "storePreferencesData": {
        "countryCode": "BRA",
        "currencyCode": "BRL",
        "timeZone": "E. South America Standard Time",
        "currencyFormatInfo": {"CurrencyDecimalDigits": 2},
    },
}


def test_list_row_is_parsed_with_exact_time_and_integer_money() -> None:
    s = OrderSummary.from_vtex(ROW)
    assert s.order_id == "1306331686122-01"
    assert s.created_at == parse_instant("2026-03-01T15:34:56.1234567Z")
    assert s.created_at.ns % 1_000 == 700  # the 7th digit survived
    assert s.created_at.isoformat(7) == "2026-03-01T12:34:56.1234567-03:00"
    assert s.total == Money(24999, "BRL") and isinstance(s.total.minor, int)
    assert (s.status, s.currency, s.sales_channel, s.payment_names, s.origin) == (
        "invoiced",
        "BRL",
        "1",
        "Visa",
        "Marketplace",
    )


def test_rows_100_ns_apart_are_different_and_ordered() -> None:
    a = OrderSummary.from_vtex({**ROW, "creationDate": "2026-03-01T12:34:56.1234567-03:00"})
    b = OrderSummary.from_vtex({**ROW, "orderId": "2-01", "creationDate": "2026-03-01T12:34:56.1234568-03:00"})
    assert a.created_at < b.created_at and b.created_at.ns - a.created_at.ns == 100


@pytest.mark.parametrize("value", [249.99, "24999", None, True, [1]])
def test_a_list_row_with_unusable_money_is_bad_response_naming_the_order(value: object) -> None:
    with pytest.raises(BadResponse) as err:
        OrderSummary.from_vtex({**ROW, "totalValue": value})
    assert "1306331686122-01" in str(err.value) and "totalValue" in str(err.value)


def test_a_whole_float_is_read_as_its_integer() -> None:
    assert OrderSummary.from_vtex({**ROW, "totalValue": 24999.0}).total == Money(24999, "BRL")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("orderId", None, "orderId"),
        ("orderId", "", "orderId"),
        ("currencyCode", None, "currency"),
        ("currencyCode", "R$", "currency"),
        ("creationDate", None, "creationDate"),
        ("creationDate", "yesterday", "creationDate"),
    ],
)
def test_list_rows_missing_what_refundkit_relies_on_are_refused(field: str, value: object, words: str) -> None:
    with pytest.raises(BadResponse, match=words):
        OrderSummary.from_vtex({**ROW, field: value})


def test_order_totals_items_and_payments_are_integer_money() -> None:
    o = Order.from_vtex(ORDER)
    assert o.total == Money(24999, "BRL")
    assert o.totals == {
        "Items": Money(25990, "BRL"),
        "Discounts": Money(-2990, "BRL"),
        "Shipping": Money(1999, "BRL"),
        "Tax": Money(0, "BRL"),
    }
    assert o.items[0].unit_price == Money(22999, "BRL") and o.items[0].quantity == 1
    assert [p.value.minor for p in o.payments] == [20000, 4999]
    assert o.payment_names == "Visa, Gift card"
    assert o.payments[0].installments == 3
    assert o.created_at.ns == parse_instant("2026-03-01T15:34:56.1234567Z").ns


def test_return_invoices_are_native_refunds() -> None:
    o = Order.from_vtex(ORDER)
    assert [r.invoice_number for r in o.return_invoices] == ["NF-R1", "NF-R2"]  # Output is a sale, not a refund
    assert o.native_refunded == Money(6999, "BRL")
    assert o.return_invoices[0].issued_at == parse_instant("2026-03-10T09:15:00.1000001Z")
    assert o.return_invoices[1].issued_at is None


def test_an_order_without_return_invoices_has_refunded_nothing() -> None:
    body = copy.deepcopy(ORDER)
    body["packageAttachment"] = {"packages": []}
    assert Order.from_vtex(body).native_refunded == Money(0, "BRL")
    del body["packageAttachment"]
    assert Order.from_vtex(body).native_refunded == Money(0, "BRL")


@pytest.mark.parametrize("where", ["value", "totals", "payment", "invoice"])
def test_a_fractional_amount_anywhere_is_bad_response_naming_the_order(where: str) -> None:
    body = copy.deepcopy(ORDER)
    if where == "value":
        body["value"] = 249.99
    elif where == "totals":
        body["totals"][0]["value"] = 259.9
    elif where == "payment":
        body["paymentData"]["transactions"][0]["payments"][0]["value"] = 200.5
    else:
        body["packageAttachment"]["packages"][1]["invoiceValue"] = 50.01
    with pytest.raises(BadResponse) as err:
        Order.from_vtex(body)
    assert "1306331686122-01" in str(err.value)


def test_a_return_invoice_without_a_value_is_refused() -> None:
    body = copy.deepcopy(ORDER)
    del body["packageAttachment"]["packages"][1]["invoiceValue"]
    with pytest.raises(BadResponse, match=r"return invoice value .* of order 1306331686122-01"):
        Order.from_vtex(body)


def test_zero_decimal_currency_converts_vtex_cents() -> None:
    body = copy.deepcopy(ORDER)
    body["storePreferencesData"]["currencyCode"] = "JPY"
    body["value"] = 150000  # VTEX cents: 1,500 yen
    body["totals"] = []
    body["items"] = []
    body["paymentData"] = {}
    body["packageAttachment"] = {"packages": [{"type": "Input", "invoiceValue": 50000, "invoiceNumber": "R"}]}
    o = Order.from_vtex(body)
    assert o.total == Money(1500, "JPY") and o.native_refunded == Money(500, "JPY")
    body["value"] = 150001
    with pytest.raises(BadResponse, match="JPY"):
        Order.from_vtex(body)


def test_an_order_that_is_not_an_object_or_has_no_id_is_refused() -> None:
    with pytest.raises(BadResponse):
        Order.from_vtex([])  # type: ignore[arg-type]  # a wrong type on purpose
    with pytest.raises(BadResponse, match="orderId"):
        Order.from_vtex({**ORDER, "orderId": None})


def test_note_parsing() -> None:
    n = Note.from_vtex(
        {
            "id": "n1",
            "target": {"id": "1-01", "type": "order"},
            "description": "refunded 10.00",
            "creationDate": "2026-03-01T12:00:00.1234567+00:00",
        }
    )
    assert (n.note_id, n.order_id, n.description) == ("n1", "1-01", "refunded 10.00")
    assert n.created_at is not None and n.created_at.ns % 1_000 == 700
    with pytest.raises(BadResponse):
        Note.from_vtex({"description": "no id"})


@pytest.mark.parametrize(
    ("field", "value", "numbers"),
    [
        ("invoiceInput", ["R1", "R2"], ("R1", "R2")),
        ("invoiceInput", "R1", ("R1",)),
        ("invoicesInput", ["R1"], ("R1",)),
        ("invoiceInput", None, None),
        ("invoiceInput", [], None),
        ("invoiceInput", [None, ""], None),
        ("invoiceInput", "", None),
        (None, None, None),
    ],
)
def test_a_list_row_naming_no_return_invoice_leaves_it_unknown(field, value, numbers) -> None:
    """invoiceInput is not in VTEX's ListOrders schema: absent, null or empty says nothing (some accounts send
    null or [] on every row); only the numbers a row names are taken."""
    row = {k: v for k, v in ROW.items() if k not in ("invoiceInput", "invoicesInput")}
    if field:
        row[field] = value
    assert OrderSummary.from_vtex(row).invoice_input == numbers
