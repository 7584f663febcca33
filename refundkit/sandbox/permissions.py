"""License Manager in the sandbox: which resources let a key call which endpoint, and the 403s when none is held.

VTEX's specs list, for each endpoint, the License Manager resources any one of which lets a key call it; a key
holding none of them gets ``403``. :data:`RULES` copies those lists for every endpoint the sandbox serves, so
``SandboxConfig(denied_resources={"List Orders"})`` plays a key whose role lacks that resource: a call that another
held resource also allows still works, exactly as on VTEX. Do notes need no resource (the Do spec lists none).

``SandboxConfig(ip_blocked=True)`` plays VTEX's firewall blocking the caller's IP: ``403`` to every request,
whatever the credentials, which a client cannot tell apart from a missing resource by the status alone.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Collection
from typing import Any

from .http import Response, json_response

__all__ = [
    "INDEX_CREATE",
    "INDEX_EDIT",
    "INDEX_LIST",
    "INDEX_VIEW",
    "LIST_ORDERS",
    "MD_ADMIN",
    "MD_FULL",
    "MD_READ",
    "MD_WRITE",
    "ORDERS_FULL",
    "RESOURCES",
    "RULES",
    "VIEW_ORDER",
    "access_options",
    "add_access_flags",
    "check_permission",
    "ip_blocked_response",
    "required_resources",
]

LIST_ORDERS = "List Orders"
VIEW_ORDER = "View order"
ORDERS_FULL = "Orders Full Access"
MD_READ = "Read only documents"
MD_WRITE = "Insert or update document (not remove)"
MD_FULL = "Full access to all documents"
MD_ADMIN = "Master Data administrator"
INDEX_VIEW = "View index details"
INDEX_LIST = "List index"
INDEX_EDIT = "Edit index"
INDEX_CREATE = "Create index"

RESOURCES = frozenset(
    {
        LIST_ORDERS,
        VIEW_ORDER,
        ORDERS_FULL,
        MD_READ,
        MD_WRITE,
        MD_FULL,
        MD_ADMIN,
        INDEX_VIEW,
        INDEX_LIST,
        INDEX_EDIT,
        INDEX_CREATE,
    }
)

_MD = r"^/api/dataentities/[^/]+"
_ANY_MD_READ = (MD_READ, MD_WRITE, MD_FULL, MD_ADMIN)
_ANY_MD_WRITE = (MD_WRITE, MD_FULL, MD_ADMIN)

#: (method, path regex, resources any one of which allows the call) — from the "Permissions" section of each spec.
RULES: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (m, re.compile(p), r)
    for m, p, r in [
        ("GET", r"^/api/oms/pvt/orders/?$", (LIST_ORDERS, ORDERS_FULL)),
        ("GET", r"^/api/oms/pvt/orders/[^/]+/?$", (VIEW_ORDER, ORDERS_FULL)),
        ("GET", r"^/api/oms/pvt/orders/order-group/[^/]+/?$", (VIEW_ORDER, ORDERS_FULL)),
        # the Orders API of the PII data architecture lists the same resources
        ("POST", r"^/api/orders/extendsearch/orders/?$", (LIST_ORDERS, ORDERS_FULL)),
        ("GET", r"^/api/orders/pvt/document/[^/]+/?$", (VIEW_ORDER, ORDERS_FULL)),
        ("GET", _MD + r"/documents/[^/]+/?$", _ANY_MD_READ),
        ("GET", _MD + r"/(search|scroll)/?$", _ANY_MD_READ),
        ("GET", _MD + r"/schemas(/[^/]+)?/?$", _ANY_MD_READ),
        ("PUT", _MD + r"/schemas/[^/]+/?$", (MD_ADMIN,)),
        ("DELETE", _MD + r"/schemas/[^/]+/?$", (MD_ADMIN,)),
        ("GET", _MD + r"/indices/?$", (INDEX_VIEW, INDEX_LIST, MD_ADMIN)),
        ("GET", _MD + r"/indices/[^/]+/?$", (INDEX_VIEW, MD_ADMIN)),
        ("PUT", _MD + r"/indices/?$", (INDEX_EDIT, INDEX_CREATE, MD_ADMIN)),
        ("POST", _MD + r"/documents/?$", _ANY_MD_WRITE),
        ("PATCH", _MD + r"/documents/?$", _ANY_MD_WRITE),
        ("PUT", _MD + r"/documents/[^/]+/?$", _ANY_MD_WRITE),
        ("PATCH", _MD + r"/documents/[^/]+/?$", _ANY_MD_WRITE),
        ("DELETE", _MD + r"/documents/[^/]+/?$", (MD_FULL, MD_ADMIN)),
    ]
)


def required_resources(method: str, path: str) -> tuple[str, ...] | None:
    """The resources any one of which allows the call; None when the endpoint needs none (or is not modelled)."""
    for m, rx, resources in RULES:
        if m == method.upper() and rx.match(path):
            return resources
    return None


def check_permission(method: str, path: str, denied: Collection[str]) -> Response | None:
    """A 403 like VTEX's when every resource that allows the call is denied; None when the call may go on."""
    if not denied:
        return None
    needed = required_resources(method, path)
    if needed is None or any(r not in denied for r in needed):
        return None
    return json_response(
        403,
        {"Message": f"The user or app key does not have the License Manager resource(s) {', '.join(needed)}"},
    )


def ip_blocked_response() -> Response:
    return json_response(403, {"Message": "Access denied: requests from this IP address are blocked"})


def add_access_flags(parser: argparse.ArgumentParser) -> None:
    """``--deny RESOURCE`` (repeatable) and ``--ip-blocked``: a key or a network VTEX does not fully let in."""
    parser.add_argument(
        "--deny",
        action="append",
        default=[],
        choices=sorted(RESOURCES),
        metavar="RESOURCE",
        help="play a key whose role lacks this License Manager resource (repeatable), e.g. --deny 'List Orders' "
        "--deny 'Orders Full Access'; one of: " + ", ".join(sorted(RESOURCES)),
    )
    parser.add_argument("--ip-blocked", action="store_true", help="play VTEX blocking this IP: 403 to every request")


def access_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~refundkit.sandbox.config.SandboxConfig` fields the flags of :func:`add_access_flags` set."""
    return {"denied_resources": frozenset(args.deny), "ip_blocked": bool(args.ip_blocked)}
