"""VTEX DO notes (``/api/do/notes``): create, list by order, get. Notes cannot be edited or deleted, as on VTEX.

Limits kept: ``description`` at most 2,000 characters, at most 30 notes per order, ``perPage`` at most 30.
``target.url`` must be one of the two forms the spec allows ("the complete target URL or only
``/orders/{OrderID}``"), naming the note's own order: anything else is refused with 400.
On an account on the PII data architecture (``pii_architecture``) the list masks who wrote each note (``createdBy``
name and email) unless the request gives a ``reason``, as VTEX's guide says of ``/do``; the text is left whole
(refundkit finds its notes by a marker in it). Whether VTEX masks anything in a note's text is not documented.
``notes_list_lag_s`` plays a list that shows a note only some seconds after it was posted (VTEX does not say).
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from refundkit.timeutil import utc_now

from .config import SandboxConfig
from .http import BadJson, Request, Response, json_response, oms_error
from .piiorders import mask

__all__ = ["MAX_DESCRIPTION", "MAX_NOTES_PER_ORDER", "MAX_PER_PAGE", "Notes"]

MAX_DESCRIPTION = 2000
MAX_NOTES_PER_ORDER = 30
MAX_PER_PAGE = 30
DEFAULT_PER_PAGE = 15


def _bad(message: str) -> Response:
    return oms_error(400, "DO001", message)


def _target_url_problem(target: dict[str, Any]) -> str | None:
    """Why ``target.url`` is not one the Do spec allows for an order note, or None. The spec: "You can choose
    between using the complete target URL or only ``/orders/{OrderID}``" (its example of the complete one is
    ``https://{host}/admin/checkout/#/orders/{OrderID}``)."""
    url, order_id = target["url"], target["id"]
    if target["type"] != "order" or url == f"/orders/{order_id}":
        return None
    if url.startswith("https://") and "/" in url[8:] and url.endswith(f"/orders/{order_id}"):
        return None
    return (
        f"target.url {url[:80]!r} is neither /orders/{order_id} nor the complete URL of order {order_id}'s page "
        "(https://<host>/.../orders/<id>)"
    )


class Notes:
    def __init__(
        self,
        config: SandboxConfig,
        log: Callable[[dict[str, Any]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._clock = clock
        self.posted_at: dict[str, float] = {}  # note id -> clock() when posted; replayed notes are not lagging
        self.lock = threading.Lock()
        self.notes: dict[str, dict[str, Any]] = {}
        self.by_target: dict[str, list[str]] = {}
        self._log = log
        self.owner = uuid.uuid5(uuid.NAMESPACE_DNS, f"{config.account}.notes").hex

    def create(self, req: Request) -> Response:
        try:
            body = req.json()
        except BadJson as exc:
            return _bad(str(exc))
        if not isinstance(body, dict):
            return _bad("the body must be a JSON object with target, domain and description")
        missing = [k for k in ("target", "domain", "description") if k not in body or body[k] in (None, "")]
        if missing:
            return _bad(f"missing required field(s): {', '.join(missing)}")
        target = body["target"]
        if not isinstance(target, dict):
            return _bad("target must be an object {id, type, url}")
        missing = [f"target.{k}" for k in ("id", "type", "url") if not isinstance(target.get(k), str) or not target[k]]
        if missing:
            return _bad(f"missing required field(s): {', '.join(missing)}")
        if problem := _target_url_problem(target):
            return _bad(problem)
        if not isinstance(body["domain"], str) or not isinstance(body["description"], str):
            return _bad("domain and description must be strings")
        if len(body["description"]) > MAX_DESCRIPTION:
            return _bad(f"description has {len(body['description'])} characters; the maximum is {MAX_DESCRIPTION}")
        created_by = body.get("createdBy")
        if created_by is not None and not isinstance(created_by, dict):
            return _bad("createdBy must be an object {id, name}")
        key = req.header("x-vtex-api-appkey") or ""
        note = self._note(target, body["domain"], body["description"], created_by or {}, key)
        with self.lock:
            existing = self.by_target.get(target["id"], [])
            if len(existing) >= MAX_NOTES_PER_ORDER:
                return _bad(
                    f"order {target['id']} already has {len(existing)} notes; VTEX allows at most "
                    f"{MAX_NOTES_PER_ORDER} notes per order"
                )
            self._add(note)
            self.posted_at[str(note["id"])] = self._clock()
            if self._log is not None:
                self._log({"op": "note", "note": note})
        return json_response(200, note)

    def _note(
        self, target: dict[str, str], domain: str, description: str, created_by: dict[str, Any], key: str
    ) -> dict[str, Any]:
        stamp = utc_now().isoformat(7).replace("+00:00", "Z")
        return {
            "id": uuid.uuid4().hex.upper(),
            "domain": domain,
            "owner": self.owner,
            "target": {"id": target["id"], "type": target["type"], "url": target["url"]},
            "description": description,
            "creationDate": stamp,
            "lastUpdate": stamp,
            "createdBy": {
                "id": str(created_by.get("id") or key),
                "name": str(created_by.get("name") or key),
                "email": str(created_by.get("email") or ""),
                "key": key or None,
            },
        }

    def seed(self, order_id: str, description: str, *, domain: str = "oms") -> dict[str, Any]:
        """Put a note on the order without a request, as if posted long ago (the list shows it at once), for filling
        a large store quickly (benchmarks, tests). Returns the note; ValueError where VTEX would refuse it (an order
        holding 30 notes, a description over 2,000 characters)."""
        if len(description) > MAX_DESCRIPTION:
            raise ValueError(f"description has {len(description)} characters; the maximum is {MAX_DESCRIPTION}")
        target = {"id": order_id, "type": "order", "url": f"/orders/{order_id}"}
        note = self._note(target, domain, description, {}, self.config.app_key)
        with self.lock:
            if len(self.by_target.get(order_id, [])) >= MAX_NOTES_PER_ORDER:
                raise ValueError(f"order {order_id} already has {MAX_NOTES_PER_ORDER} notes, the most VTEX allows")
            self._add(note)
            if self._log is not None:
                self._log({"op": "note", "note": note})
        return note

    def _add(self, note: dict[str, Any]) -> None:
        self.notes[note["id"]] = note
        self.by_target.setdefault(note["target"]["id"], []).append(note["id"])

    def list(self, req: Request) -> Response:
        target = req.query.get("target.id")
        if not target:
            return _bad("target.id is required: GET /api/do/notes?target.id=<orderId>")
        try:
            per_page = int(req.query.get("perPage") or DEFAULT_PER_PAGE)
            page = int(req.query.get("page") or 1)
        except ValueError:
            return _bad("perPage and page must be integers")
        if not 1 <= per_page <= MAX_PER_PAGE:
            return _bad(f"perPage must be between 1 and {MAX_PER_PAGE}, got {per_page}")
        if page < 1:
            return _bad(f"page must be 1 or more, got {page}")
        cutoff = self._clock() - max(self.config.notes_list_lag_s, 0.0)
        with self.lock:
            notes = [
                self.notes[i] for i in self.by_target.get(target, []) if self.posted_at.get(i, float("-inf")) <= cutoff
            ]
        first = (page - 1) * per_page
        items = notes[first : first + per_page]
        if self.config.pii_architecture and not req.query.get("reason"):
            items = [
                {**n, "createdBy": {k: mask(v) if k in ("name", "email") else v for k, v in n["createdBy"].items()}}
                for n in items
            ]
        return json_response(
            200,
            {
                "items": items,
                "paging": {
                    "page": page,
                    "perPage": per_page,
                    "total": len(notes),
                    "pages": math.ceil(len(notes) / per_page),
                },
            },
        )

    def get(self, req: Request, note_id: str) -> Response:
        with self.lock:
            note = self.notes.get(note_id)
        if note is None:
            return oms_error(404, "DO004", f"note {note_id} not found")
        return json_response(200, note)

    def replay(self, record: dict[str, Any]) -> None:
        with self.lock:
            self._add(record["note"])
