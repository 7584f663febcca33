"""VTEX Do: notes on an order, shown in the order's Annotations in the Admin.

Notes cannot be edited or deleted, an order takes at most 30 and a note at most 2,000 characters. A note POST is
not idempotent: :meth:`Notes.create_once` makes it so by listing the order's notes and looking for a marker (the
refund id) before posting, and again after a lost answer, so a retried post never writes a second note.

The 31st note on an order is refused by VTEX (the spec states the limit, not the answer): refundkit raises
:class:`~refundkit.errors.NoteLimitReached` — before posting when it has just listed 30 notes, or after a 4xx when
the order then lists 30 — so callers keep the refund recorded and say that its note could not be added.
"""

from __future__ import annotations

from ..errors import BadResponse, InputError, NetworkError, NoteLimitReached, ServerError, VtexError
from .models import Note
from .oms import check_order_id
from .transport import Transport

__all__ = ["MAX_NOTES_PER_ORDER", "MAX_NOTE_CHARS", "Notes", "order_url"]

MAX_NOTE_CHARS = 2000
MAX_NOTES_PER_ORDER = 30


def order_url(order_id: str) -> str:
    """The note's ``target.url``. VTEX's Do spec allows "the complete target URL or only ``/orders/{OrderID}``";
    the short form names the order without guessing the account's Admin host or page layout (the spec's own example
    is the old ``/admin/checkout/#/orders/…`` page), so it is the one refundkit sends."""
    return f"/orders/{order_id}"


class Notes:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, order_id: str, description: str) -> Note:
        oid = check_order_id(order_id)
        if not description or not description.strip():
            raise InputError("a note needs some text")
        if len(description) > MAX_NOTE_CHARS:
            raise InputError(f"a VTEX note holds at most {MAX_NOTE_CHARS} characters; this one has {len(description)}")
        body = {
            "target": {"id": oid, "type": "order", "url": order_url(oid)},
            "domain": "oms",
            "description": description,
        }
        try:
            return Note.from_vtex(self._t.json("POST", "/api/do/notes", json=body, idempotent=False))
        except BadResponse as exc:
            # VTEX documents the limit (30 notes an order) but not how it refuses the 31st: decide by counting.
            if exc.status is not None and 400 <= exc.status < 500 and self._full(oid):
                raise self._limit(oid) from None
            raise

    def _full(self, order_id: str) -> bool:
        try:
            return len(self.list(order_id)) >= MAX_NOTES_PER_ORDER
        except VtexError:
            return False

    @staticmethod
    def _limit(order_id: str) -> NoteLimitReached:
        return NoteLimitReached(
            f"order {order_id} already holds the {MAX_NOTES_PER_ORDER} notes VTEX allows, so no note can be added; "
            "the refund stays recorded in the ledger (and in Master Data), only its order note is missing",
            request="POST /api/do/notes",
        )

    def list(self, order_id: str) -> list[Note]:
        oid = check_order_id(order_id)
        notes: list[Note] = []
        page = 1
        while True:
            body = self._t.json(
                "GET",
                "/api/do/notes",
                params={"target.id": oid, "perPage": str(MAX_NOTES_PER_ORDER), "page": str(page)},
            )
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                raise BadResponse(f"VTEX sent the notes of order {oid} in an unknown shape")
            notes.extend(Note.from_vtex(n) for n in body["items"])
            paging = body.get("paging") or {}
            pages = paging.get("pages") or 1
            if page >= pages or not body["items"]:
                return notes
            page += 1

    def find(self, order_id: str, marker: str) -> Note | None:
        for note in self.list(order_id):
            if marker in note.description:
                return note
        return None

    def create_once(self, order_id: str, description: str, marker: str, *, attempts: int = 3) -> tuple[Note, bool]:
        """Post ``description`` unless a note containing ``marker`` exists. Returns (note, created_now)."""
        notes = self.list(order_id)
        existing = next((n for n in notes if marker in n.description), None)
        if existing:
            return existing, False
        if len(notes) >= MAX_NOTES_PER_ORDER:
            raise self._limit(check_order_id(order_id))
        return self.post_new(order_id, description, marker, attempts=attempts)

    def post_new(self, order_id: str, description: str, marker: str, *, attempts: int = 3) -> tuple[Note, bool]:
        """Post a note whose ``marker`` the order does not carry yet. When an answer is lost (the note may have been
        written), look for the marker before posting again, so a retry never writes a second note."""
        if marker not in description:
            raise ValueError("the marker must be part of the note text")
        for attempt in range(1, attempts + 1):
            try:
                return self.create(order_id, description), True
            except (NetworkError, ServerError):
                existing = self.find(order_id, marker)
                if existing:
                    return existing, False
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")
