"""An account on VTEX's PII data architecture (``SandboxConfig.pii_architecture``, ``--pii-architecture``).

Such an account reads orders through the "Orders API - PII data architecture" (not in ``orders.json``; a separate
spec in VTEX's openapi-schemas, which this module follows):

* ``POST /api/orders/extendsearch/orders``: the order list. The classic list's filters travel in a JSON body under
  the same names, typed as that spec's request-body schema types them (``page``/``per_page`` integers,
  ``incompleteOrders``/``f_hasInputInvoice``/``f_hasOutputInvoice``/``f_isInstore`` booleans, the rest strings); a
  body of another shape is refused with 400. The answer is the classic list's (``list``, ``paging``, ``stats``, the
  same 30-page cap), with the spec's row names for invoices (``invoicesInput``, ``invoicesOutput``) and the customer
  masked (``clientName``, ``clientEmail``, ``clientDocument``).
* ``GET /api/orders/pvt/document/{orderId}``: the classic order, customer and addresses masked, ``piiHidden: true``.

The classic OMS order endpoints (``/api/oms/pvt/orders…``) do not serve such an account. VTEX does not document
how they refuse, so ``pii_classic_status`` plays each plausible answer: 403 (the default), 404, 400, or a 302
redirect to the PII path. How VTEX masks is not documented either: here a masked value keeps its first character
and replaces the rest with ``*``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any

from .config import PII_CLASSIC_STATUSES, SandboxConfig
from .http import BadJson, Request, Response, json_response, oms_error

__all__ = [
    "add_pii_flags",
    "classic_refusal",
    "extend_search",
    "get_document",
    "pii_options",
    "with_pii_routes",
]

Handler = Callable[..., Response]
Route = tuple[str, re.Pattern[str], Handler]

_BOOLEAN = frozenset({"incompleteOrders", "f_hasInputInvoice", "f_hasOutputInvoice", "f_isInstore"})
_INTEGER = frozenset({"page", "per_page"})
_STRING = frozenset(
    {
        "f_status",
        "f_creationDate",
        "filterError",
        "orderBy",
        "q",
        "sku_Ids",
        "listId",
        "f_authorizedDate",
        "f_paymentNames",
        "paymentId",
        "pci_tid",
        "nsu",
        "f_invoicedDate",
        "f_shippingEstimate",
        "f_sellerNames",
        "f_affiliateId",
        "f_callCenterOperatorName",
        "f_RnB",
        "salesChannelId",
        "f_salesChannel",
    }
)


def mask(value: Any) -> Any:
    """A masked string: its first character, then ``*`` for the rest. Anything else unchanged."""
    if not isinstance(value, str) or not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def _query_of(body: Any) -> dict[str, str] | Response:
    """The PII list's JSON body as the classic list's query, or the 400 for a body of another shape."""
    if not isinstance(body, dict):
        return oms_error(400, "OMS001", "the body must be a JSON object of filters")
    query: dict[str, str] = {}
    for name, value in body.items():
        if name in _BOOLEAN:
            ok, text = isinstance(value, bool), str(value).lower()
        elif name in _INTEGER:
            ok, text = isinstance(value, int) and not isinstance(value, bool), str(value)
        elif name in _STRING:
            ok, text = isinstance(value, str), str(value)
        else:
            return oms_error(400, "OMS001", f"unknown filter {name[:60]!r}")
        if not ok:
            kind = "a boolean" if name in _BOOLEAN else "an integer" if name in _INTEGER else "a string"
            return oms_error(400, "OMS001", f"{name} must be {kind}, got {value!r:.60}")
        query[name] = text
    return query


def extend_search(req: Request, classic_list: Handler) -> Response:
    """``POST /api/orders/extendsearch/orders``: the classic list (``classic_list``), asked with the body's filters,
    its rows as the PII list writes them."""
    try:
        query = _query_of(req.json())
    except BadJson as exc:
        return oms_error(400, "OMS001", str(exc))
    if isinstance(query, Response):
        return query
    answer = classic_list(Request("GET", "/api/oms/pvt/orders", query, req.headers, b"", req.base_url))
    if answer.status != 200:
        return answer
    body = dict(answer.body)
    body["list"] = [_pii_row(row) for row in body["list"]]
    return json_response(200, body, answer.headers)


def _pii_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for classic, pii in (("invoiceInput", "invoicesInput"), ("invoiceOutput", "invoicesOutput")):
        if classic in out:
            out[pii] = out.pop(classic)
    out["clientName"] = mask(out.get("clientName"))
    out["clientEmail"] = mask(f"{out['orderId'].split('-')[0]}@example.com")
    out["clientDocument"] = mask("00000000000")
    return out


def get_document(req: Request, order_id: str, classic_get: Handler) -> Response:
    """``GET /api/orders/pvt/document/{orderId}``: the classic order (``classic_get``), customer data masked."""
    answer = classic_get(req, order_id=order_id)
    if answer.status != 200:
        return answer
    body = dict(answer.body)
    profile = body.get("clientProfileData")
    if isinstance(profile, dict):
        body["clientProfileData"] = {
            k: mask(v) if k in ("firstName", "lastName", "email", "document", "phone", "corporateName") else v
            for k, v in profile.items()
        }
    shipping = body.get("shippingData")
    if isinstance(shipping, dict) and isinstance(shipping.get("address"), dict):
        body["shippingData"] = {**shipping, "address": {k: mask(v) for k, v in shipping["address"].items()}}
    body["piiHidden"] = True
    return json_response(200, body, answer.headers)


def with_pii_routes(config: SandboxConfig, routes: list[Route], route: Callable[[str], re.Pattern[str]]) -> list[Route]:
    """``routes`` (the sandbox's) with the PII data architecture played on them, per request as ``config`` says: the
    classic order endpoints refuse while ``pii_architecture`` is on, and the two PII endpoints answer only then (404
    otherwise, as a path an account does not serve)."""

    def classic(sample: str) -> Handler:
        return next(h for m, rx, h in routes if m == "GET" and rx.match(sample))

    classic_list, classic_get = classic("/api/oms/pvt/orders"), classic("/api/oms/pvt/orders/x-01")
    refuse = classic_refusal(config)

    def guarded(handler: Handler) -> Handler:
        def answer(req: Request, **kw: str) -> Response:
            return refuse(req) if config.pii_architecture else handler(req, **kw)

        return answer

    def only_pii(handler: Handler) -> Handler:
        def answer(req: Request, **kw: str) -> Response:
            if not config.pii_architecture:
                return oms_error(404, "NotFound", "this account is not on the PII data architecture")
            return handler(req, **kw)

        return answer

    out = [(m, rx, guarded(h) if h is classic_list or h is classic_get else h) for m, rx, h in routes]
    out.append(("POST", route("/api/orders/extendsearch/orders"), only_pii(lambda r: extend_search(r, classic_list))))
    out.append(
        (
            "GET",
            route("/api/orders/pvt/document/{order_id}"),
            only_pii(lambda r, order_id: get_document(r, order_id, classic_get)),
        )
    )
    return out


def classic_refusal(config: SandboxConfig) -> Handler:
    """The handler of the classic order endpoints on such an account: the configured refusal, read per request."""

    def refuse(req: Request, **_: str) -> Response:
        status = config.pii_classic_status
        if status == 302:
            tail = req.path.removeprefix("/api/oms/pvt/orders").strip("/")
            where = f"/api/orders/pvt/document/{tail}" if tail else "/api/orders/extendsearch/orders"
            return json_response(302, {"Message": "moved"}, {"Location": f"{req.base_url}{where}"})
        message = (
            "this account uses the PII data architecture: use the Orders API - PII data architecture "
            "(/api/orders/pvt/document/{orderId}, /api/orders/extendsearch/orders)"
        )
        return oms_error(status, "OMS_PII", message)

    return refuse


def add_pii_flags(parser: argparse.ArgumentParser) -> None:
    """``--pii-architecture`` and ``--pii-classic-status``."""
    parser.add_argument(
        "--pii-architecture",
        action="store_true",
        help="play an account on VTEX's PII data architecture: orders are served only through "
        "/api/orders/pvt/document/{id} and POST /api/orders/extendsearch/orders, customer data masked "
        "(refundkit then needs REFUNDKIT_PII_ARCHITECTURE=on; `refundkit doctor` tells)",
    )
    parser.add_argument(
        "--pii-classic-status",
        type=int,
        choices=PII_CLASSIC_STATUSES,
        default=SandboxConfig.pii_classic_status,
        help="with --pii-architecture: how the classic /api/oms/pvt/orders endpoints refuse (VTEX does not say; "
        "302 redirects to the PII path; default 403)",
    )


def pii_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`SandboxConfig` fields the flags of :func:`add_pii_flags` set."""
    return {
        "pii_architecture": bool(getattr(args, "pii_architecture", False)),
        "pii_classic_status": getattr(args, "pii_classic_status", SandboxConfig.pii_classic_status),
    }
