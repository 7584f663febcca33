"""The body of ``GET /api/oms/pvt/orders/{orderId}`` (spec ``GetOrder``) for one of the sandbox's orders, and the
dates as VTEX writes them (the list uses them too).

Cosmetic fields (addresses, card digits, tracking numbers...) come from a generator seeded by the store's seed and
the order's index, so an order reads the same on every call; :func:`order_detail` builds the order part by part,
each part drawing from the generator in a fixed order. What VTEX's other refunds and payment groups change on the
body is applied afterwards (:mod:`refundkit.sandbox.payments`).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from refundkit.timeutil import Instant

from .adjustments import transaction_id_for
from .store import PAYMENT_SYSTEMS, STATUS_DESCRIPTIONS, OrderSummary, catalog_entry, catalog_size, cities

__all__ = [
    "GIFT_SHARE",
    "PROMOTION_SHARE",
    "SPLIT_SHARE",
    "Shape",
    "creation_date",
    "item_shape",
    "order_detail",
    "vtex_date",
]


def vtex_date(instant: Instant | None) -> str | None:
    """VTEX writes most dates with the fraction's trailing zeros dropped (``…:54.53+00:00``, ``…:54+00:00``)."""
    if instant is None:
        return None
    text = instant.isoformat(7)
    head, offset = text[:-6], text[-6:]
    if "." in head:
        head = head.rstrip("0").rstrip(".")
    return head + offset


def creation_date(instant: Instant) -> str:
    """``creationDate`` always with 7 fractional digits: ``2026-03-01T00:00:00.0000000+00:00``."""
    return instant.isoformat(7)


_CURRENCY_PREFS = {
    "BRL": {
        "countryCode": "BRA",
        "currencyCode": "BRL",
        "currencyLocale": 1046,
        "currencySymbol": "R$",
        "timeZone": "E. South America Standard Time",
        "currencyFormatInfo": {
            "CurrencyDecimalDigits": 2,
            "CurrencyDecimalSeparator": ",",
            "CurrencyGroupSeparator": ".",
            "CurrencyGroupSize": 3,
            "StartsWithCurrencySymbol": True,
        },
    },
    "USD": {
        "countryCode": "USA",
        "currencyCode": "USD",
        "currencyLocale": 1033,
        "currencySymbol": "$",
        "timeZone": "Eastern Standard Time",
        "currencyFormatInfo": {
            "CurrencyDecimalDigits": 2,
            "CurrencyDecimalSeparator": ".",
            "CurrencyGroupSeparator": ",",
            "CurrencyGroupSize": 3,
            "StartsWithCurrencySymbol": True,
        },
    },
}
_TOTAL_NAMES = {
    "Items": "Total dos Itens",
    "Discounts": "Total dos Descontos",
    "Shipping": "Total do Frete",
    "Tax": "Total da Taxa",
}
_CANCEL_REASONS = [
    "Cliente desistiu da compra",
    "Pagamento não aprovado",
    "Produto sem estoque",
    "Endereço de entrega inválido",
]
_STREETS = [
    "Rua das Flores",
    "Avenida Brasil",
    "Rua Sete de Setembro",
    "Avenida Paulista",
    "Rua XV de Novembro",
    "Main Street",
    "Oak Avenue",
    "Sunset Boulevard",
]


def _hex(rng: random.Random, n: int = 32) -> str:
    return f"{rng.getrandbits(4 * n):0{n}X}"


#: Share of orders whose lines of two units or more are split into two lines of the same SKU (as VTEX splits a
#: line whose units got different prices), and share whose discounts are one order-level promotion in the lines'
#: ``priceTags`` (one identifier on every discounted line). Drawn from a generator of their own, seeded by the order
#: id, so the store's figures and every other field stay as they were.
SPLIT_SHARE: Final = 0.25
PROMOTION_SHARE: Final = 0.35
#: Share of orders that carry a gift: one more line, ``isGift``, that the customer paid nothing for (price 0, so the
#: order's totals are what they were).
GIFT_SHARE: Final = 0.04


@dataclass(frozen=True, slots=True)
class Shape:
    """How an order's ``items[]`` read: each JSON line's (summary line, units), and whether its discounts are an
    order-level promotion."""

    lines: tuple[tuple[int, int], ...]
    promotion: bool
    #: the catalog product given as a gift (a last line, after the order's own), None when none
    gift: int | None = None


def item_shape(o: OrderSummary) -> Shape:
    """The JSON lines of ``o`` (see :data:`SPLIT_SHARE`): a summary line of q ≥ 2 units may read as two lines of the
    same SKU; the units and the money are the summary's either way."""
    shape = random.Random(f"item-shape:{o.order_id}")
    lines: list[tuple[int, int]] = []
    for i, line in enumerate(o.items):
        if line.quantity >= 2 and shape.random() < SPLIT_SHARE:
            first = shape.randrange(1, line.quantity)
            lines += [(i, first), (i, line.quantity - first)]
        else:
            lines.append((i, line.quantity))
    promotion = shape.random() < PROMOTION_SHARE
    gift = shape.randrange(catalog_size()) if shape.random() < GIFT_SHARE else None
    return Shape(tuple(lines), promotion, gift)


def _json_lines(shape: Shape, returned: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Units of summary lines ``(index, units)`` as units of the JSON lines (in order, each line up to its units)."""
    out: list[tuple[int, int]] = []
    for i, q in returned:
        left = q
        for j, (k, units) in enumerate(shape.lines):
            if k == i and left > 0:
                take = min(left, units)
                out.append((j, take))
                left -= take
    return out


def order_detail(o: OrderSummary, seed: int, account: str, item_prices: str = "full") -> dict[str, Any]:
    """The full order JSON (spec ``GetOrder``). Cosmetic fields come from a generator seeded by (seed, index); the
    parts below draw from it in a fixed order, so an order reads the same on every call and in every version.
    ``item_prices`` is :attr:`SandboxConfig.item_prices`: which item price fields VTEX sends."""
    rng = random.Random(seed * 1_000_003 + o.index)
    group = o.order_id[:-3]
    country = "USA" if o.currency == "USD" else "BRA"
    address = _address(o, rng, country)
    shape = item_shape(o)
    items = _items(o, rng, account, group, shape=shape, item_prices=item_prices)
    _hex(rng)  # the generator's draw stays, so every other cosmetic field is what it always was
    transaction_id = transaction_id_for(account, o.order_id)
    payments = _payments(o, rng)
    packages = _packages(o, rng, account, shape)
    cancellation = _cancellation(o, rng)
    logistics = _logistics(o, address["addressId"], country, len(shape.lines) + (shape.gift is not None))
    profile_id = _hex(rng).lower()
    return {
        "orderId": o.order_id,
        "sequence": str(o.sequence),
        "marketplaceOrderId": "",
        "marketplaceServicesEndpoint": f"http://oms.vtexinternal.com.br/api/oms?an={account}",
        "sellerOrderId": f"00-{o.order_id}",
        "origin": o.origin,
        "affiliateId": "",
        "salesChannel": o.sales_channel,
        "merchantName": None,
        "status": o.status,
        "workflowIsInError": False,
        "statusDescription": STATUS_DESCRIPTIONS.get(o.status, o.status),
        "value": o.total_cents,
        "creationDate": creation_date(o.created),
        "lastChange": vtex_date(o.last_change),
        "orderGroup": group,
        "followUpEmail": f"{_hex(rng, 16).lower()}@ct.vtex.com.br",
        "lastMessage": None,
        "hostname": account,
        "isCompleted": o.status not in ("payment-pending",),
        "roundingError": 0,
        "orderFormId": _hex(rng).lower(),
        "allowCancellation": o.status
        in ("payment-pending", "payment-approved", "window-to-cancel", "ready-for-handling"),
        "allowEdition": False,
        "isCheckedIn": False,
        "authorizedDate": vtex_date(o.authorized),
        "invoicedDate": vtex_date(o.invoiced),
        "cancelReason": cancellation["Reason"] if cancellation else None,
        "checkedInPickupPointId": None,
        "totals": [
            {"id": "Items", "name": _TOTAL_NAMES["Items"], "value": o.items_cents},
            {"id": "Discounts", "name": _TOTAL_NAMES["Discounts"], "value": o.discounts_cents},
            {"id": "Shipping", "name": _TOTAL_NAMES["Shipping"], "value": o.shipping_cents},
            {"id": "Tax", "name": _TOTAL_NAMES["Tax"], "value": o.tax_cents},
        ],
        "sellers": [
            {
                "id": "1",
                "name": account,
                "logo": None,
                "fulfillmentEndpoint": f"http://fulfillment.vtexcommerce.com.br/api/fulfillment?an={account}",
            }
        ],
        "clientPreferencesData": {
            "locale": "en-US" if o.currency == "USD" else "pt-BR",
            "optinNewsLetter": rng.random() < 0.4,
        },
        "cancellationData": cancellation,
        "taxData": None,
        "subscriptionData": None,
        "itemMetadata": _item_metadata(o, account),
        "marketplace": {
            "baseURL": f"http://oms.vtexinternal.com.br/api/oms?an={account}",
            "isCertified": None,
            "name": account,
        },
        "storePreferencesData": _CURRENCY_PREFS[o.currency],
        "customData": None,
        "commercialConditionData": None,
        "openTextField": None,
        "invoiceData": None,
        "changesAttachment": None,
        "callCenterOperatorData": None,
        "packageAttachment": {"packages": packages},
        "paymentData": {
            "giftCards": [],
            "transactions": [
                {
                    "isActive": True,
                    "transactionId": transaction_id,
                    "merchantName": account.upper(),
                    "payments": payments,
                }
            ],
        },
        "shippingData": _shipping_data(address, logistics),
        "ratesAndBenefitsData": {"id": "ratesAndBenefitsData", "rateAndBenefitsIdentifiers": []},
        "marketingData": None,
        "giftRegistryData": None,
        "clientProfileData": _client_profile(o, rng, country, profile_id),
        "items": items,
        "marketplaceItems": [],
    }


def _address(o: OrderSummary, rng: random.Random, country: str) -> dict[str, Any]:
    city, state, zip_prefix = rng.choice(cities(o.currency))
    return {
        "addressType": "residential",
        "receiverName": o.client_name,
        "addressId": _hex(rng, 12).lower(),
        "versionId": None,
        "entityId": None,
        "postalCode": f"{zip_prefix}-{rng.randrange(1000):03d}",
        "city": city,
        "state": state,
        "country": country,
        "street": rng.choice(_STREETS),
        "number": str(rng.randrange(1, 3000)),
        "neighborhood": "Centro",
        "complement": "",
        "reference": None,
        "geoCoordinates": [],
    }


def _price_tags(o: OrderSummary, shape: Shape, index: int, units: int) -> list[dict[str, Any]]:
    """The line's discounts as VTEX lists them: value in cents for the line's units, negative."""
    line = o.items[index]
    off = (line.price - line.selling_price) * units
    if off <= 0:
        return []
    tag = random.Random(f"promotion:{o.order_id}:{'order' if shape.promotion else index}")
    ident = f"{tag.getrandbits(128):032x}"
    ident = f"{ident[:8]}-{ident[8:12]}-{ident[12:16]}-{ident[16:20]}-{ident[20:]}"
    return [
        {
            "name": f"discount@price-{ident}#{ident[::-1]}",
            "value": -off,
            "isPercentual": False,
            "identifier": ident,
            "rawValue": -off / 100,
            "rate": None,
            "jurisCode": None,
            "jurisType": None,
            "jurisName": None,
        }
    ]


def _items(
    o: OrderSummary, rng: random.Random, account: str, group: str, *, shape: Shape, item_prices: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    extra = random.Random(f"item-ids:{o.order_id}")  # ids of split lines' second parts: off the main generator
    seen: set[int] = set()
    for index, units in shape.lines:
        line = o.items[index]
        name, brand, category, _ = catalog_entry(line.product)
        total = line.selling_price * units
        unique = _hex(extra) if index in seen else _hex(rng)
        seen.add(index)
        tags = _price_tags(o, shape, index, units)
        # "before-promotions": the order-level promotion is in priceTags and the totals only, not in sellingPrice
        selling = line.price if item_prices == "before-promotions" and shape.promotion and tags else line.selling_price
        item: dict[str, Any] = {
            "uniqueId": unique,
            "id": line.sku,
            "productId": str(100 + line.product),
            "ean": None,
            "lockId": f"00-{group}-01",
            "itemAttachment": {"content": {}, "name": None},
            "attachments": [],
            "quantity": units,
            "seller": "1",
            "name": name,
            "refId": f"REF{line.sku}",
            "price": line.price,
            "listPrice": line.list_price,
            "manualPrice": None,
            "priceTags": tags,
            "imageUrl": f"https://{account}.vteximg.com.br/arquivos/ids/{line.sku}-55-55/img.jpg",
            "detailUrl": f"/p{line.product}/p",
            "components": [],
            "bundleItems": [],
            "params": [],
            "offerings": [],
            "attachmentOfferings": [],
            "sellerSku": line.sku,
            "priceValidUntil": None,
            "commission": 0,
            "tax": 0,
            "preSaleDate": None,
            "additionalInfo": _additional_info(brand, category),
            "measurementUnit": "un",
            "unitMultiplier": 1,
            "sellingPrice": selling,
            "isGift": False,
            "shippingPrice": None,
            "rewardValue": 0,
            "freightCommission": 0,
            "priceDefinition": {
                "sellingPrices": [{"value": line.selling_price, "quantity": units}],
                "calculatedSellingPrice": line.selling_price,
                "total": total,
                "reason": None,
            },
            "taxCode": None,
            "parentItemIndex": None,
            "parentAssemblyBinding": None,
            "callCenterOperator": None,
            "serialNumbers": None,
            "assemblies": [],
            "costPrice": line.price * 6 // 10,
        }
        if item_prices != "full":  # older orders, and some accounts: no priceDefinition
            del item["priceDefinition"]
        items.append(item)
    if shape.gift is not None:
        items.append(_gift(o, shape.gift, account, extra))
    return items


def _additional_info(brand: str, category: str) -> dict[str, Any]:
    """An item's ``additionalInfo``: its brand and category as VTEX's catalog gives them."""
    return {
        "brandName": brand,
        "brandId": str(2000000 + hash_small(brand)),
        "categoriesIds": "/1/",
        "categories": [{"id": 1, "name": category}],
        "productClusterId": "",
        "commercialConditionId": "1",
        "dimension": {"cubicweight": 1.0, "height": 10, "length": 20, "weight": 500, "width": 15},
        "offeringInfo": None,
        "offeringType": None,
        "offeringTypeId": None,
    }


def _gift(o: OrderSummary, product: int, account: str, rng: random.Random) -> dict[str, Any]:
    """A gift line: the customer paid nothing for it (price 0; its list price shows what it is worth)."""
    name, brand, category, base = catalog_entry(product)
    if o.currency == "USD":
        base = base // 5 // 10 * 10 + 9
    sku = str(1000 + product * 7 + 3)
    return {
        "uniqueId": _hex(rng),
        "id": sku,
        "productId": str(100 + product),
        "ean": None,
        "quantity": 1,
        "seller": "1",
        "name": name,
        "refId": f"REF{sku}",
        "price": 0,
        "listPrice": base,
        "manualPrice": None,
        "priceTags": [],
        "imageUrl": f"https://{account}.vteximg.com.br/arquivos/ids/{sku}-55-55/img.jpg",
        "detailUrl": f"/p{product}/p",
        "additionalInfo": _additional_info(brand, category),
        "measurementUnit": "un",
        "unitMultiplier": 1,
        "sellingPrice": 0,
        "isGift": True,
        "priceDefinition": {
            "sellingPrices": [{"value": 0, "quantity": 1}],
            "calculatedSellingPrice": 0,
            "total": 0,
            "reason": None,
        },
        "parentItemIndex": None,
    }


def _payments(o: OrderSummary, rng: random.Random) -> list[dict[str, Any]]:
    payments: list[dict[str, Any]] = []
    for p in o.payments:
        system, pgroup = PAYMENT_SYSTEMS[p.name]
        card = pgroup == "creditCard"
        payments.append(
            {
                "id": _hex(rng),
                "paymentSystem": system,
                "paymentSystemName": p.name,
                "value": p.value,
                "installments": rng.choice((1, 1, 2, 3, 6)) if card else 1,
                "referenceValue": p.value,
                "cardHolder": None,
                "cardNumber": None,
                "firstDigits": "411111" if card else None,
                "lastDigits": f"{rng.randrange(10000):04d}" if card else None,
                "cvv2": None,
                "expireMonth": None,
                "expireYear": None,
                "url": None,
                "giftCardId": str(rng.randrange(10**6)) if pgroup == "giftCard" else None,
                "giftCardName": None,
                "giftCardCaption": None,
                "redemptionCode": None,
                "group": pgroup,
                "tid": str(rng.randrange(10**9)),
                "dueDate": None,
                "connectorResponses": {
                    "Tid": str(rng.randrange(10**9)),
                    "ReturnCode": "00",
                    "Message": None,
                    "authId": str(rng.randrange(10**6)),
                },
                "giftCardProvider": "VtexGiftCard" if pgroup == "giftCard" else None,
                "giftCardAsDiscount": False,
                "koinUrl": None,
                "accountId": None,
                "parentAccountId": None,
                "bankIssuedInvoiceIdentificationNumber": None,
                "bankIssuedInvoiceIdentificationNumberFormatted": None,
                "bankIssuedInvoiceBarCodeNumber": None,
                "bankIssuedInvoiceBarCodeType": None,
                "billingAddress": None,
                "paymentOrigin": None,
            }
        )
    return payments


def _packages(o: OrderSummary, rng: random.Random, account: str, shape: Shape) -> list[dict[str, Any]]:
    packages: list[dict[str, Any]] = []
    if o.output_invoice is not None:
        packages.append(
            _package(
                o,
                "Output",
                number=o.output_invoice,
                value=o.total_cents,
                issued=o.invoiced,
                lines=_json_lines(shape, [(i, line.quantity) for i, line in enumerate(o.items)]),
                rng=rng,
                account=account,
                shape=shape,
            )
        )
    for inv in o.input_invoices:
        pkg = _package(
            o,
            "Input",
            number=inv.number,
            value=inv.value,
            issued=inv.issued,
            lines=_json_lines(shape, list(inv.items)),
            rng=rng,
            account=account,
            shape=shape,
        )
        if inv.items:
            refund_items = [
                {
                    "useFreight": inv.value == o.total_cents,
                    "isCompensation": False,
                    "compensationValue": 0,
                    "id": o.items[i].sku,
                    "quantity": q,
                    "price": o.items[i].selling_price,
                    "description": "Devolução",
                }
                for i, q in inv.items
            ]
        else:
            refund_items = [
                {
                    "useFreight": False,
                    "isCompensation": True,
                    "compensationValue": inv.value,
                    "id": o.items[0].sku,
                    "quantity": 0,
                    "price": 0,
                    "description": "Compensação",
                }
            ]
        pkg["restitutions"] = {"Refund": {"value": inv.value, "giftCardData": None, "items": refund_items}}
        packages.append(pkg)
    return packages


def _cancellation(o: OrderSummary, rng: random.Random) -> dict[str, Any] | None:
    if o.canceled is None:
        return None
    by_user = rng.random() < 0.5
    return {
        "RequestedByUser": by_user,
        "RequestedBySystem": not by_user,
        "RequestedBySellerNotification": False,
        "RequestedByPaymentNotification": False,
        "Reason": rng.choice(_CANCEL_REASONS),
        "CancellationDate": o.canceled.isoformat(7).replace("+00:00", "Z"),
    }


def _logistics(o: OrderSummary, address_id: str, country: str, n_lines: int) -> list[dict[str, Any]]:
    shipping_per_item = [o.shipping_cents // n_lines] * n_lines
    shipping_per_item[0] += o.shipping_cents - sum(shipping_per_item)
    return [
        {
            "itemIndex": i,
            "selectedSla": "Normal",
            "lockTTL": "10d",
            "price": shipping_per_item[i],
            "listPrice": shipping_per_item[i],
            "sellingPrice": shipping_per_item[i],
            "deliveryWindow": None,
            "deliveryCompany": "Transportadora Padrão",
            "shippingEstimate": "5bd",
            "shippingEstimateDate": vtex_date(o.created + timedelta(days=7)),
            "shipsTo": [country],
            "deliveryChannels": [{"id": "delivery", "stockBalance": 0}],
            "selectedDeliveryChannel": "delivery",
            "addressId": address_id,
            "versionId": None,
            "entityId": None,
            "polygonName": None,
            "pickupPointId": None,
            "transitTime": "5bd",
            "slas": [],
            "deliveryIds": [],
            "pickupStoreInfo": None,
        }
        for i in range(n_lines)
    ]


def _item_metadata(o: OrderSummary, account: str) -> dict[str, Any]:
    return {
        "Items": [
            {
                "Id": line.sku,
                "Seller": "1",
                "Name": catalog_entry(line.product)[0],
                "SkuName": catalog_entry(line.product)[0],
                "ProductId": str(100 + line.product),
                "RefId": f"REF{line.sku}",
                "Ean": f"789{line.sku:0>10}",
                "ImageUrl": f"https://{account}.vteximg.com.br/arquivos/ids/{line.sku}-55-55/img.jpg",
                "DetailUrl": f"/p{line.product}/p",
                "AssemblyOptions": [],
            }
            for line in o.items
        ]
    }


def _shipping_data(address: dict[str, Any], logistics: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "shippingData",
        "address": address,
        "logisticsInfo": logistics,
        "trackingHints": None,
        "selectedAddresses": [
            {
                k: address[k]
                for k in (
                    "addressId",
                    "versionId",
                    "entityId",
                    "addressType",
                    "receiverName",
                    "street",
                    "number",
                    "complement",
                    "neighborhood",
                    "postalCode",
                    "city",
                    "state",
                    "country",
                    "reference",
                    "geoCoordinates",
                )
            }
        ],
        "contactInformation": [],
    }


def _client_profile(o: OrderSummary, rng: random.Random, country: str, profile_id: str) -> dict[str, Any]:
    email = f"{_ascii(o.client_first_name)}.{_ascii(o.client_last_name)}{o.index % 97}@example.com".lower()
    return {
        "id": "clientProfileData",
        "email": email,
        "firstName": o.client_first_name,
        "lastName": o.client_last_name,
        "documentType": "cpf" if country == "BRA" else "ssn",
        "document": f"{rng.randrange(10**11):011d}",
        "phone": f"+55119{rng.randrange(10**8):08d}",
        "corporateName": None,
        "tradeName": None,
        "corporateDocument": None,
        "stateInscription": None,
        "corporatePhone": None,
        "isCorporate": False,
        "userProfileId": profile_id,
        "userProfileVersion": None,
        "customerClass": None,
        "customerCode": None,
    }


def _package(
    o: OrderSummary,
    kind: str,
    *,
    number: str,
    value: int,
    issued: Instant | None,
    lines: list[tuple[int, int]],
    rng: random.Random,
    account: str,
    shape: Shape,
) -> dict[str, Any]:
    """A package; ``lines`` are (JSON line, units)."""
    return {
        "items": [
            {
                "itemIndex": i,
                "quantity": q,
                "price": o.items[shape.lines[i][0]].selling_price,
                "description": None,
                "unitMultiplier": 1.0,
            }
            for i, q in lines
        ],
        "courier": "Transportadora Padrão" if kind == "Output" else None,
        "invoiceNumber": number,
        "invoiceValue": value,
        "invoiceUrl": None,
        "issuanceDate": vtex_date(issued),
        "trackingNumber": f"BR{rng.randrange(10**9):09d}" if kind == "Output" else None,
        "invoiceKey": None,
        "trackingUrl": None,
        "embeddedInvoice": "",
        "type": kind,
        "courierStatus": None,
        "cfop": None,
        "restitutions": {},
        "volumes": 1,
        "EnableInferItems": False,
    }


def hash_small(text: str) -> int:
    """A small stable number from text (Python's hash() changes between runs)."""
    return sum((i + 1) * ord(c) for i, c in enumerate(text)) % 100000


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
