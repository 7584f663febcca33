"""Master Data v2: schemas, documents by id, search and scroll.

Consistency, as VTEX documents it: ``/documents`` (get by id) is strongly consistent; ``/search`` and ``/scroll``
are eventually consistent (a write shows up there some time later). Code that must know whether a document exists
reads it by id; search is for listing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ..errors import BadResponse, InputError, VtexError
from .transport import Transport

log = logging.getLogger("refundkit.vtex")

__all__ = ["CONDITIONAL_WRITE_ANSWERS", "SEARCH_DEPTH", "SEARCH_PAGE", "ConditionalAnswer", "MasterData"]

#: What a write under ``_where`` may answer, whether it applied or not: VTEX documents neither the status of a failed
#: condition (304, 400, 409 and 412 are all plausible, and so is a 2xx that applied nothing) nor what a condition on
#: an id with no document does (a refusal may come as 404). The caller reads the document back by id to know.
CONDITIONAL_WRITE_ANSWERS: tuple[int, ...] = (200, 201, 204, 304, 400, 404, 409, 412, 422)


@dataclass(frozen=True)
class ConditionalAnswer:
    """What Master Data answered to a conditional write. It does not say whether the write applied: read back."""

    status: int
    error: VtexError | None = None  # what a 4xx answer says (redacted), to explain a write that read-back shows refused

    def describe(self) -> str:
        return str(self.error) if self.error is not None else f"VTEX answered {self.status}"


SEARCH_PAGE = 100
SEARCH_DEPTH = 10_000
_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_RANGE_RE = re.compile(r"resources\s+(\d+)-(\d+)/(\d+)")


def _answered(response: httpx.Response | None) -> httpx.Response:
    """The response of a request made without ``not_found_ok`` (the transport answers None only with it)."""
    if response is None:
        raise BadResponse("Master Data sent no answer where one was required")
    return response


def _check_id(doc_id: str) -> str:
    if not isinstance(doc_id, str) or not _ID_RE.match(doc_id):
        raise InputError(f"{doc_id!r} is not a usable Master Data document id (letters, digits, '-', '_', '.')")
    return doc_id


class MasterData:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @staticmethod
    def _base(entity: str) -> str:
        return f"/api/dataentities/{quote(entity)}"

    # -- schemas ------------------------------------------------------------------------------------------------
    def save_schema(self, entity: str, name: str, schema: dict[str, Any]) -> None:
        self._t.request("PUT", f"{self._base(entity)}/schemas/{quote(name)}", json=schema)

    def get_schema(self, entity: str, name: str) -> dict[str, Any] | None:
        body = self._t.json("GET", f"{self._base(entity)}/schemas/{quote(name)}", not_found_ok=True)
        if body is not None and not isinstance(body, dict):
            raise BadResponse(f"Master Data sent schema {name} of {entity} in an unknown shape")
        return body

    # -- documents ----------------------------------------------------------------------------------------------
    def get(self, entity: str, doc_id: str, fields: Sequence[str] | str = "_all") -> dict[str, Any] | None:
        """The document, or None. Strongly consistent: reflects every write that was acknowledged."""
        f = fields if isinstance(fields, str) else ",".join(fields)
        body = self._t.json(
            "GET",
            f"{self._base(entity)}/documents/{quote(_check_id(doc_id))}",
            params={"_fields": f},
            not_found_ok=True,
        )
        if body is not None and not isinstance(body, dict):
            raise BadResponse(f"Master Data sent document {doc_id} in an unknown shape")
        return body

    @staticmethod
    def _conditional(where: str | None, schema: str | None) -> dict[str, str]:
        """``_where`` with its ``_schema``: VTEX's spec says ``_schema`` is required whenever ``_where`` is sent."""
        if where and not schema:
            raise ValueError("a Master Data _where needs its _schema (VTEX requires it): pass schema=")
        return {k: v for k, v in (("_schema", schema), ("_where", where)) if v}

    def put(
        self, entity: str, doc_id: str, document: dict[str, Any], *, schema: str | None = None, where: str | None = None
    ) -> int:
        """Create the document with this id, or replace it whole. With ``where``, only if the stored document
        satisfies it. Returns the HTTP status (204 written; 304 is how the sandbox reports an unmet condition, but
        VTEX does not document that status, so callers that use ``where`` must read back by id to know)."""
        params = self._conditional(where, schema)
        response = self._t.request(
            "PUT",
            f"{self._base(entity)}/documents/{quote(_check_id(doc_id))}",
            json=document,
            params=params or None,
            idempotent=True,
            ok=(200, 201, 204, 304),
        )
        return _answered(response).status_code

    def put_if(
        self, entity: str, doc_id: str, document: dict[str, Any], *, where: str, schema: str
    ) -> ConditionalAnswer:
        """Replace (or create) the document only if the stored one satisfies ``where``. Whatever the answer — any of
        :data:`CONDITIONAL_WRITE_ANSWERS` — the write may or may not have applied: read the document back by id.
        Other answers raise as usual (401, 403, 429 and 5xx after retries). The ledger and the doctor's probe both
        write through here, so both send the same shape: ``_schema`` and ``_where``."""
        params = self._conditional(where, schema)
        response = self._t.request(
            "PUT",
            f"{self._base(entity)}/documents/{quote(_check_id(doc_id))}",
            json=document,
            params=params,
            idempotent=True,
            ok=CONDITIONAL_WRITE_ANSWERS,
        )
        assert response is not None  # not_found_ok is off: a 404 is in `ok` and comes back as a response
        status = response.status_code
        return ConditionalAnswer(status, self._t.error_for(response) if status >= 400 else None)

    # -- search and scroll --------------------------------------------------------------------------------------
    def search(
        self,
        entity: str,
        *,
        where: str | None = None,
        fields: Sequence[str] = ("_all",),
        sort: str | None = "createdIn ASC",
        schema: str | None = None,
        limit: int = SEARCH_DEPTH,
    ) -> Iterator[dict[str, Any]]:
        """Documents matching ``where`` (eventually consistent), 100 per request, up to VTEX's 10,000 reachable.
        Use :meth:`scroll` for more."""
        start = 0
        limit = min(limit, SEARCH_DEPTH)
        while start < limit:
            end = min(start + SEARCH_PAGE, limit)
            docs, total = self.search_page(entity, start, end, where=where, fields=fields, sort=sort, schema=schema)
            yield from docs
            if not docs or len(docs) < end - start or (total is not None and end >= total):
                return
            start = end

    def search_page(
        self,
        entity: str,
        start: int,
        end: int,
        *,
        where: str | None = None,
        fields: Sequence[str] = ("_all",),
        sort: str | None = "createdIn ASC",
        schema: str | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One search request: documents ``[start, end)`` (at most 100, within the first 10,000) matching ``where``,
        and how many match in all as VTEX's ``REST-Content-Range`` says (None when it says nothing readable)."""
        params: dict[str, str] = {"_fields": ",".join(fields), **self._conditional(where, schema)}
        if schema:
            params["_schema"] = schema
        if sort:
            params["_sort"] = sort
        response = _answered(
            self._t.request(
                "GET", f"{self._base(entity)}/search", params=params, headers={"REST-Range": f"resources={start}-{end}"}
            )
        )
        docs = response.json()
        if not isinstance(docs, list):
            raise BadResponse(f"Master Data search on {entity} did not answer with a list")
        m = _RANGE_RE.search(response.headers.get("REST-Content-Range", ""))
        return docs, (int(m.group(3)) if m else None)

    def scroll(
        self,
        entity: str,
        *,
        where: str | None = None,
        fields: Sequence[str] = ("_all",),
        sort: str | None = None,
        size: int = 1000,
        schema: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching document, past search's 10,000 limit (eventually consistent). ``where`` needs ``schema``.

        Read it to the end: VTEX keeps an abandoned scroll token alive for 20 minutes and allows 10 per account."""
        params: dict[str, str] = {
            "_fields": ",".join(fields),
            "_size": str(min(max(size, 1), 1000)),
            **self._conditional(where, schema),
        }
        if sort:
            params["_sort"] = sort
        response = self._t.request("GET", f"{self._base(entity)}/scroll", params=params)
        token: str | None = None
        by_token = False
        while True:
            docs = _answered(response).json()
            if not isinstance(docs, list):
                raise BadResponse(f"Master Data scroll on {entity} did not answer with a list")
            yield from docs
            token = _answered(response).headers.get("X-VTEX-MD-TOKEN") or token
            # Done at the first empty page asked for by token. An empty FIRST page still holds one of the account's
            # scroll slots until its token is used (or expires after 20 minutes): ask once more to give it back.
            if not token or (not docs and by_token):
                return
            response = self._t.request("GET", f"{self._base(entity)}/scroll", params={"_token": token})
            by_token = True
