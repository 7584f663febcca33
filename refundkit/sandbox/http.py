"""The request and response values handlers take and return — no sockets involved.

A handler is a plain function ``(Request, ...) -> Response``; :mod:`refundkit.sandbox.server` turns HTTP into a
:class:`Request` and a :class:`Response` back into bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["BadJson", "Request", "Response", "json_response", "md_error", "oms_error"]

JSON_TYPE = "application/json; charset=utf-8"


class BadJson(ValueError):
    pass


@dataclass
class Request:
    """One HTTP request. ``query`` keeps the last value of each parameter; ``headers`` keys are lower-case."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    base_url: str = "http://127.0.0.1"

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        """The body parsed as JSON; :class:`BadJson` with a readable reason otherwise."""
        if not self.body:
            raise BadJson("the request has no body; send a JSON object")
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadJson(f"the body is not valid JSON ({exc})") from None


class Response(NamedTuple):
    """``body`` is a JSON-able value, or None for no body at all (204, 304)."""

    status: int
    headers: dict[str, str]
    body: Any


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, dict(headers or {}), body)


def oms_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The error shape the OMS spec shows: ``{"error": {"code", "message", "exception": null}}``."""
    return Response(status, dict(headers or {}), {"error": {"code": code, "message": message, "exception": None}})


def md_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The error shape Master Data uses: ``{"Message": "..."}``."""
    return Response(status, dict(headers or {}), {"Message": message})
