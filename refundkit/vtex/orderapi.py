"""Which Orders API an account answers on: the classic OMS endpoints, or those of VTEX's PII data architecture.

Accounts on VTEX's PII data architecture (Data Protection Plus) must use the "Orders API - PII data architecture"
(a separate spec in VTEX's openapi-schemas; ``orders.json`` does not document these paths):

=========================  ======================================  =============================================
what refundkit reads       classic account                         PII data architecture
=========================  ======================================  =============================================
one order                  ``GET /api/oms/pvt/orders/{id}``        ``GET /api/orders/pvt/document/{id}``
a page of the order list   ``GET /api/oms/pvt/orders?…``           ``POST /api/orders/extendsearch/orders`` (read
                                                                   only: the filters travel in a JSON body)
=========================  ======================================  =============================================

The PII list takes the classic list's filters under the same names, typed in the JSON body (``page`` and
``per_page`` integers, ``incompleteOrders`` and ``f_hasInputInvoice`` booleans, ``f_creationDate``, ``f_status``
and ``orderBy`` strings of the classic form), and answers the classic shape (``list``, ``paging``, ``stats``), its
rows naming return invoices ``invoicesInput`` (:meth:`~refundkit.vtex.models.OrderSummary.from_vtex` reads both
names). Its order has the classic order's fields, customer data masked (refundkit reads none of it). So the 30-page
cap, paging, the splitting of a range and exactly-once listing work the same through either: only the request
differs, and :class:`~refundkit.vtex.oms.Orders` asks :func:`order_api` for it.

Which one an account uses is the setting ``REFUNDKIT_PII_ARCHITECTURE`` (``off`` by default); ``refundkit doctor``
tells which one the account answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .transport import Transport

__all__ = ["CLASSIC", "PII", "OrderApi", "order_api", "pii_list_body"]

#: Filters the PII list takes as JSON booleans and integers (its request-body schema); every other one is a string.
_BOOLEAN = frozenset({"incompleteOrders", "f_hasInputInvoice", "f_hasOutputInvoice", "f_isInstore"})
_INTEGER = frozenset({"page", "per_page"})


def pii_list_body(params: dict[str, str]) -> dict[str, Any]:
    """The classic list's query parameters as the PII list's JSON body, each typed as its schema says."""
    body: dict[str, Any] = {}
    for name, value in params.items():
        if name in _BOOLEAN:
            body[name] = value == "true"
        elif name in _INTEGER:
            body[name] = int(value)
        else:
            body[name] = value
    return body


@dataclass(frozen=True)
class OrderApi:
    """The two calls refundkit makes to read orders, on one of VTEX's two Orders APIs."""

    name: str
    list_path: str
    list_method: str
    document_path: str  # the order's path, ``{id}`` for its id

    @property
    def list_what(self) -> str:
        return f"{self.list_method} {self.list_path}"

    def get_what(self, order_id: str) -> str:
        return f"GET {self.document_path.format(id=order_id)}"

    def list_page(self, t: Transport, params: dict[str, str]) -> Any:
        """One page of the order list for the classic list's ``params``; the answer's JSON, unchecked."""
        if self.list_method == "POST":  # read only, so as safe to repeat as a GET
            return t.json("POST", self.list_path, json=pii_list_body(params), idempotent=True)
        return t.json("GET", self.list_path, params=params)

    def get(self, t: Transport, order_id: str) -> Any:
        """The order's JSON, or None when VTEX answers 404. ``order_id`` must be checked already."""
        return t.json("GET", self.document_path.format(id=quote(order_id)), not_found_ok=True)


CLASSIC = OrderApi("classic", "/api/oms/pvt/orders", "GET", "/api/oms/pvt/orders/{id}")
PII = OrderApi("PII data architecture", "/api/orders/extendsearch/orders", "POST", "/api/orders/pvt/document/{id}")


def order_api(pii: bool) -> OrderApi:
    """:data:`PII` for an account on VTEX's PII data architecture, else :data:`CLASSIC`."""
    return PII if pii else CLASSIC
