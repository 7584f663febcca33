"""Master Data v2 (``/api/dataentities/{entity}/...``): schemas, documents, conditional writes, search and scroll.

Faithful where a client can get hurt:

* ``/documents`` is strongly consistent (GET by id returns the latest write); ``/search`` and ``/scroll`` see each
  document as it was ``search_lag_s`` seconds ago (a new document is invisible, an updated one shows its old version).
  With ``md_read_cache_s``, an entity whose schemas do not set ``"v-cache": false`` serves reads by id from a
  cache that far behind, as VTEX's default caching may.
* ``_where`` on ``PUT``/``PATCH /documents/{id}``: the condition check and the write happen under one lock. A failed
  condition writes nothing. VTEX documents neither its answer (``md_failed_condition_status``: 304 by default; 400,
  409, 412, or a 2xx that applied nothing), nor what a condition on an id with no document does
  (``md_missing_document``: ignored and the document created, evaluated against an empty document, or refused), nor
  that conditions are honoured at all (``md_conditions_honoured=False`` applies every write), so the sandbox plays
  each, and a client must read the document back by id rather than trust the status. The spec says ``_schema`` is
  required with ``_where``: a write with a ``_where`` but no ``_schema``, or whose ``_where`` names a field that
  schema does not declare, is refused with 400 (as VTEX refuses an undeclared field in a search), so a client that
  sends one is caught.
* ``_schema`` validates synchronously (400 with what failed). Ids are case-insensitive for storage; the search index
  is not (VTEX known issue): every spelling of an id that was written shows up as its own search hit.
* Search needs ``REST-Range`` (at most 100 per request, 10,000 deep); without ``_sort`` the order is unspecified and
  changes after every write to the entity, as VTEX warns, so paging without ``_sort`` can repeat or skip documents.
  Where VTEX is silent the sandbox plays each plausible answer: documents with an equal ``_sort`` field in one order
  or in each request's own (``md_sort_ties``); ``REST-Content-Range``'s total exact, missing, capped at 300 or
  rounded (``md_search_total``); a ``*`` in a value matching with or without letters' case, as a plain character,
  or refused (``md_wildcards``).
* Scroll: ``_size`` up to 1000, tokens die after ``scroll_ttl_s`` unused, at most ``max_scrolls`` live per account.
* ``GET /schemas`` answers a bare schema object (no list, no name) when the entity has exactly one schema, as the
  spec says VTEX does.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from refundkit.timeutil import utc_now

from .config import SandboxConfig
from .http import BadJson, Request, Response, json_response, md_error
from .mdquery import (
    MISSING,
    And,
    Node,
    WhereError,
    get_field,
    parse_sort,
    parse_where,
    simple_filter,
    sort_documents,
)

__all__ = ["SYSTEM_FIELDS", "MasterData"]

SYSTEM_FIELDS = ("id", "accountId", "accountName", "dataEntityId", "createdIn", "updatedIn")
_DEFAULT_FIELDS = ("id", "accountId", "accountName", "dataEntityId")
_ALWAYS_INDEXED = {"id", "createdIn", "updatedIn"}
_RANGE_RE = re.compile(r"^\s*resources\s*=\s*(\d+)\s*-\s*(\d+)\s*$")
_ID_RE = re.compile(r"^[^/\\?#\s]{1,200}$")
_ENTITY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,99}$")
MAX_PAGE = 100
MAX_DEPTH = 10_000
MAX_SCROLL_SIZE = 1000
MAX_SCHEMAS = 60
_SAVED = "JSON Schema persisted successfully. Revalidation and indexing process running in background."
_RESERVED_PARAMS = {"_where", "_fields", "_sort", "_schema", "_size", "_token", "_keyword", "an"}


_JSONSCHEMA_IMPORT = threading.Lock()


def _jsonschema() -> ModuleType:
    """jsonschema, imported on first use, and without its optional IRI syntax checker.

    That checker (``rfc3987_syntax``, installed alongside Jupyter) builds a grammar when imported: 0.9 s of CPU in
    every process that starts a sandbox, each notebook kernel included. The sandbox's validators are built without
    a format checker, so they never use it: the first import happens with that module hidden. The module itself
    stays importable afterwards, but jsonschema's own FormatChecker checks no ``iri`` formats in this process.
    Threads that ask at once wait for the first import to finish (a half-imported module has no validators yet)."""
    with _JSONSCHEMA_IMPORT:
        if "jsonschema" not in sys.modules:
            hidden = "rfc3987_syntax" not in sys.modules
            if hidden:
                sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # None makes its import fail
            try:
                import jsonschema  # noqa: PLC0415 - deferred on purpose (see above); imported whole below
            finally:
                if hidden:
                    del sys.modules["rfc3987_syntax"]
    import jsonschema  # noqa: PLC0415 - whole by now: an import that is under way elsewhere is waited for

    module: ModuleType = jsonschema
    return module


@dataclass
class _Version:
    at: float  # monotonic time of the write; -inf for documents replayed from disk
    doc: dict[str, Any] | None  # the stored document with its system fields; None once deleted
    schemas: set[str] = field(default_factory=set)  # schemas the document was valid against


@dataclass
class _Doc:
    id: str  # the spelling of the first write
    versions: list[_Version]
    spellings: dict[str, float]  # every spelling of the id that was written -> first time it was written

    @property
    def current(self) -> dict[str, Any] | None:
        return self.versions[-1].doc

    def visible(self, cutoff: float) -> _Version | None:
        for v in reversed(self.versions):
            if v.at <= cutoff:
                return v if v.doc is not None else None
        return None


@dataclass
class _Entity:
    name: str
    docs: dict[str, _Doc] = field(default_factory=dict)  # key: lower-case id
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict[str, Any])
    validators: dict[str, Any] = field(default_factory=dict)
    generation: int = 0  # bumped by every write; seeds the unspecified order of unsorted searches


@dataclass
class _Scroll:
    token: str
    entity: str
    rows: list[dict[str, Any]]
    size: int
    cursor: int
    last_used: float


class MasterData:
    """The Master Data state of one account. Every public method is a handler: ``(Request, ...) -> Response``."""

    def __init__(
        self,
        config: SandboxConfig,
        log: Callable[[dict[str, Any]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.entities: dict[str, _Entity] = {}
        self.scrolls: dict[str, _Scroll] = {}
        self._log = log
        self._clock = clock
        self._requests = 0  # searches answered: seeds the tie order of md_sort_ties="any"
        self.account_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{config.account}.vtexcommercestable.com.br"))

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _entity(self, name: str) -> _Entity:
        """The entity called ``name``, created on first use (as a write or a schema creates it on VTEX)."""
        ent = self.entities.get(name)
        if ent is None:
            ent = self.entities[name] = _Entity(name)
        return ent

    def _href(self, req: Request, entity: str, doc_id: str) -> str:
        return f"{req.base_url}/api/dataentities/{entity}/documents/{doc_id}"

    def _created_body(self, req: Request, entity: str, doc_id: str) -> dict[str, Any]:
        return {"Id": f"{entity}-{doc_id}", "Href": self._href(req, entity, doc_id), "DocumentId": doc_id}

    def _validator(self, ent: _Entity, name: str) -> Any:  # a jsonschema validator (jsonschema has no types)
        v = ent.validators.get(name)
        if v is None:
            # VTEX's examples carry "$schema": "http://json-schema.org/schema#"; validate as draft 7 whatever it says
            schema = {k: val for k, val in ent.schemas[name].items() if k != "$schema"}
            v = ent.validators[name] = _jsonschema().Draft7Validator(schema)
        return v

    def _schema_errors(self, ent: _Entity, name: str, doc: dict[str, Any]) -> str | None:
        schema = ent.schemas[name]
        declared = schema.get("properties") or {}
        subject = {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS or k in declared}
        error = _jsonschema().exceptions.best_match(self._validator(ent, name).iter_errors(subject))
        if error is None:
            return None
        where = "#/" + "/".join(str(p) for p in error.absolute_path)
        return f"the document does not comply with schema '{name}': {where}: {error.message}"

    def _tags(self, ent: _Entity, doc: dict[str, Any]) -> set[str]:
        return {name for name in ent.schemas if self._schema_errors(ent, name, doc) is None}

    def _write(
        self, ent: _Entity, doc_id: str, doc: dict[str, Any] | None, at: float | None = None, log: bool = True
    ) -> None:
        """Store a new version (None deletes). Caller holds the lock."""
        now = self._clock() if at is None else at
        key = doc_id.lower()
        rec = ent.docs.get(key)
        version = _Version(now, doc, self._tags(ent, doc) if doc is not None else set())
        if rec is None:
            rec = ent.docs[key] = _Doc(doc_id, [version], {doc_id: now})
        else:
            recreated = rec.current is None and doc is not None
            rec.versions.append(version)
            self._prune(rec, now)
            if recreated and doc is not None:  # a deleted document written again starts over with the new spelling
                rec.id, rec.spellings = doc["id"], {doc["id"]: now}
            elif doc is not None:
                rec.spellings.setdefault(doc_id, now)
        ent.generation += 1
        if log and self._log is not None:
            self._log({"op": "document", "entity": ent.name, "id": doc_id, "doc": doc})

    def _prune(self, rec: _Doc, now: float) -> None:
        cutoff = now - max(self.config.search_lag_s, self.config.md_read_cache_s, 0.0)
        keep_from = 0
        for i, v in enumerate(rec.versions):
            if v.at <= cutoff:
                keep_from = i
        if keep_from:
            del rec.versions[:keep_from]
        if len(rec.versions) > 200:
            del rec.versions[:-200]

    def _new_doc(
        self, ent: _Entity, doc_id: str, fields: dict[str, Any], previous: dict[str, Any] | None
    ) -> dict[str, Any]:
        stamp = utc_now().isoformat(7).replace("+00:00", "Z")
        doc = {k: v for k, v in fields.items() if k not in SYSTEM_FIELDS}
        doc.update(
            {
                "id": previous["id"] if previous else doc_id,
                "accountId": self.account_id,
                "accountName": self.config.account,
                "dataEntityId": ent.name,
                "createdIn": previous["createdIn"] if previous else stamp,
                "updatedIn": stamp,
            }
        )
        return doc

    @staticmethod
    def _body_object(req: Request) -> dict[str, Any] | Response:
        try:
            body = req.json()
        except BadJson as exc:
            return md_error(400, str(exc))
        if not isinstance(body, dict):
            return md_error(400, "the document must be a JSON object")
        return body

    def _check_names(self, entity: str, doc_id: str | None = None) -> Response | None:
        if not _ENTITY_RE.match(entity):
            return md_error(400, f"'{entity}' is not a valid data entity name")
        if doc_id is not None and not _ID_RE.match(doc_id):
            return md_error(400, f"'{doc_id}' is not a valid document id")
        return None

    def _schema_param(self, req: Request, ent: _Entity | None) -> str | Response | None:
        name = req.query.get("_schema")
        if not name:
            return None
        if ent is None or name not in ent.schemas:
            return md_error(
                400, f"Schema '{name}' not found for this data entity; save it first with PUT /schemas/{name}"
            )
        return name

    # -- schemas ---------------------------------------------------------------------------------------------------

    def save_schema(self, req: Request, entity: str, name: str) -> Response:
        bad = self._check_names(entity)
        if bad:
            return bad
        body = self._body_object(req)
        if isinstance(body, Response):
            return body
        if not isinstance(body.get("properties"), dict):
            return md_error(400, "a schema needs a 'properties' object")
        indexed = body.get("v-indexed", [])
        if not isinstance(indexed, list) or not all(isinstance(f, str) for f in indexed):
            return md_error(400, "'v-indexed' must be a list of property names")
        js = _jsonschema()
        try:
            js.Draft7Validator.check_schema({k: v for k, v in body.items() if k != "$schema"})
        except js.exceptions.SchemaError as exc:
            return md_error(400, f"invalid JSON Schema: {exc.message}")
        with self.lock:
            ent = self._entity(entity)
            if name not in ent.schemas and len(ent.schemas) >= MAX_SCHEMAS:
                return md_error(400, f"a data entity can have at most {MAX_SCHEMAS} schemas")
            self._apply_schema(ent, name, body)
            if self._log is not None:
                self._log({"op": "schema", "entity": entity, "name": name, "schema": body})
        return json_response(200, {"Message": _SAVED})

    def _apply_schema(self, ent: _Entity, name: str, schema: dict[str, Any]) -> None:
        ent.schemas[name] = schema
        ent.validators.pop(name, None)
        # VTEX revalidates every document in the background; the sandbox does it at once
        for rec in ent.docs.values():
            for v in rec.versions:
                if v.doc is not None:
                    v.schemas.discard(name)
                    if self._schema_errors(ent, name, v.doc) is None:
                        v.schemas.add(name)

    def get_schemas(self, req: Request, entity: str) -> Response:
        with self.lock:
            ent = self.entities.get(entity)
            schemas = dict(ent.schemas) if ent else {}
        if len(schemas) == 1:
            # the spec: "In case there is only one existing schema, it will be an object instead"
            return json_response(200, next(iter(schemas.values())))
        return json_response(200, [{"name": n, "schema": s} for n, s in schemas.items()])

    def get_schema(self, req: Request, entity: str, name: str) -> Response:
        with self.lock:
            ent = self.entities.get(entity)
            schema = ent.schemas.get(name) if ent else None
        if schema is None:
            return md_error(404, f"Schema '{name}' not found")
        return json_response(200, schema)

    # -- documents -------------------------------------------------------------------------------------------------

    def create_document(self, req: Request, entity: str) -> Response:
        """POST /documents: create (or replace, when the body's id exists) -> 201 {Id, Href, DocumentId}."""
        body = self._body_object(req)
        if isinstance(body, Response):
            return body
        doc_id = str(body["id"]) if body.get("id") not in (None, "") else str(uuid.uuid4())
        resp = self._conditional_write(req, entity, doc_id, body, partial=False, conditional=False)
        if resp.status != 204:
            return resp
        stored_id = resp.headers["X-Sandbox-Document-Id"]
        return json_response(201, self._created_body(req, entity, stored_id))

    def upsert_partial(self, req: Request, entity: str) -> Response:
        """PATCH /documents (id in the body, or a new one) -> 200 {Id, Href, DocumentId}."""
        body = self._body_object(req)
        if isinstance(body, Response):
            return body
        doc_id = str(body["id"]) if body.get("id") not in (None, "") else str(uuid.uuid4())
        resp = self._conditional_write(req, entity, doc_id, body, partial=True)
        if resp.status != 204:
            return resp
        return json_response(200, self._created_body(req, entity, resp.headers["X-Sandbox-Document-Id"]))

    def put_document(self, req: Request, entity: str, doc_id: str) -> Response:
        body = self._body_object(req)
        if isinstance(body, Response):
            return body
        return self._strip(self._conditional_write(req, entity, doc_id, body, partial=False))

    def patch_document(self, req: Request, entity: str, doc_id: str) -> Response:
        body = self._body_object(req)
        if isinstance(body, Response):
            return body
        return self._strip(self._conditional_write(req, entity, doc_id, body, partial=True))

    @staticmethod
    def _strip(resp: Response) -> Response:
        resp.headers.pop("X-Sandbox-Document-Id", None)
        return resp

    def _conditional_write(
        self, req: Request, entity: str, doc_id: str, body: dict[str, Any], *, partial: bool, conditional: bool = True
    ) -> Response:
        bad = self._check_names(entity, doc_id)
        if bad:
            return bad
        where: Node | None = None
        raw_where = req.query.get("_where") if conditional else None
        if raw_where:
            try:
                where = parse_where(raw_where)
            except WhereError as exc:
                return md_error(400, f"invalid _where: {exc}")
        with self.lock:  # schema check, condition and write are one atomic step
            ent = self._entity(entity)
            schema = self._schema_param(req, ent)
            if isinstance(schema, Response):
                return schema
            if where is not None and (refused := _where_without_its_schema(where, ent, schema)):
                return refused
            rec = ent.docs.get(doc_id.lower())
            previous = rec.current if rec else None
            fields = {**previous, **body} if (partial and previous) else body
            doc = self._new_doc(ent, doc_id, fields, previous)
            if schema and (err := self._schema_errors(ent, schema, doc)):
                return md_error(400, err)
            if where is not None and not self._condition_holds(where, previous):
                return self._failed_condition(entity, doc_id)
            self._write(ent, doc_id, doc)
            return Response(204, {"X-Sandbox-Document-Id": doc["id"]}, None)

    def _condition_holds(self, where: Node, previous: dict[str, Any] | None) -> bool:
        """Whether a write under ``where`` goes ahead, as the configured (undocumented) behaviour has it."""
        cfg = self.config
        if not cfg.md_conditions_honoured:
            return True
        if previous is not None:
            return where.matches(previous)
        if cfg.md_missing_document == "created":
            return True
        if cfg.md_missing_document == "empty-document":
            return where.matches({})
        return False  # "refused"

    def _failed_condition(self, entity: str, doc_id: str) -> Response:
        """Nothing is written; the answer is whichever one the configuration plays (VTEX does not document it)."""
        status = self.config.md_failed_condition_status
        if status in (204, 304):
            return Response(status, {}, None)
        if status < 300:
            return json_response(status, {})
        return md_error(status, f"The condition in _where was not met by document '{doc_id}' of '{entity}'")

    def get_document(self, req: Request, entity: str, doc_id: str) -> Response:
        with self.lock:
            ent = self.entities.get(entity)
            rec = ent.docs.get(doc_id.lower()) if ent else None
            doc = rec.current if rec else None
            if rec is not None and ent is not None and self.config.md_read_cache_s > 0 and not _cache_off(ent):
                seen = rec.visible(self._clock() - self.config.md_read_cache_s)  # served from VTEX's read cache
                doc = seen.doc if seen else None
            if ent is None or doc is None:
                return md_error(404, f"Document '{doc_id}' not found in data entity '{entity}'")
            schema = self._schema_param(req, ent)
            if isinstance(schema, Response):
                return schema
            return json_response(200, self._project(doc, req.query.get("_fields"), ent, schema))

    def delete_document(self, req: Request, entity: str, doc_id: str) -> Response:
        with self.lock:
            ent = self.entities.get(entity)
            rec = ent.docs.get(doc_id.lower()) if ent else None
            if ent is None or rec is None or rec.current is None:
                return md_error(404, f"Document '{doc_id}' not found in data entity '{entity}'")
            self._write(ent, rec.id, None)
        return Response(204, {}, None)

    @staticmethod
    def _project(doc: dict[str, Any], fields: str | None, ent: _Entity, schema: str | None) -> dict[str, Any]:
        if fields:
            names = [f.strip() for f in fields.split(",") if f.strip()]
            if "_all" in names:
                return dict(doc)
        elif schema and isinstance(ent.schemas[schema].get("v-default-fields"), list):
            names = ent.schemas[schema]["v-default-fields"]
        else:
            names = list(_DEFAULT_FIELDS)
        out = {}
        for name in names:
            v = get_field(doc, name)
            if v is not MISSING:
                out[name] = v
        return out

    # -- search and scroll -----------------------------------------------------------------------------------------

    def _query(self, req: Request, entity: str) -> tuple[list[dict[str, Any]], int] | Response:
        """Run the filters of a search/scroll request under the search lag; the projected rows and their count."""
        bad = self._check_names(entity)
        if bad:
            return bad
        nodes: list[Node] = []
        raw_where = req.query.get("_where")
        try:
            wildcards = self.config.md_wildcards
            if raw_where:
                nodes.append(parse_where(raw_where, wildcards))
            for k, v in req.query.items():
                if k not in _RESERVED_PARAMS and not k.startswith("_"):
                    nodes.append(simple_filter(k, v, wildcards))
            sort = parse_sort(req.query["_sort"]) if req.query.get("_sort") else None
        except WhereError as exc:
            return md_error(400, str(exc))
        where = And(tuple(nodes)) if nodes else None
        with self.lock:
            ent = self.entities.get(entity)
            schema = self._schema_param(req, ent)
            if isinstance(schema, Response):
                return schema
            if ent is None:
                return [], 0
            used = (where.fields() if where else set()) | ({sort[0]} if sort else set())
            if ent.schemas:
                pool = [ent.schemas[schema]] if schema else list(ent.schemas.values())
                indexed = set(_ALWAYS_INDEXED)
                for s in pool:
                    indexed.update(s.get("v-indexed") or [])
                for f in sorted(used):
                    if f not in indexed and f.split(".")[0] not in indexed:
                        return md_error(400, f"Field '{f}' not found in schema")
            cutoff = self._clock() - max(self.config.search_lag_s, 0.0)
            hits: list[dict[str, Any]] = []
            for rec in ent.docs.values():
                version = rec.visible(cutoff)
                doc = version.doc if version is not None else None
                if version is None or doc is None or (schema and schema not in version.schemas):
                    continue
                if where is not None and not where.matches(doc):
                    continue
                spellings = [s for s, t in rec.spellings.items() if t <= cutoff] or [rec.id]
                for spelling in spellings:  # the indexer keeps one entry per spelling of the id
                    hits.append(doc if spelling == doc["id"] else {**doc, "id": spelling})
            if sort and self.config.md_sort_ties == "any":  # ties in an order of this request's own
                self._requests += 1
                seed = f"{self._requests}:"
                hits = sort_documents(hits, *sort, ties=lambda i: hashlib.blake2b((seed + i).encode()).digest())
            elif sort:
                hits = sort_documents(hits, *sort)
            else:
                gen = ent.generation
                hits.sort(key=lambda d: hashlib.blake2b(f"{gen}:{d['id']}".encode(), digest_size=8).digest())
            fields = req.query.get("_fields")
            rows = [self._project(d, fields, ent, schema) for d in hits]
        return rows, len(rows)

    def search(self, req: Request, entity: str) -> Response:
        raw = req.header("REST-Range")
        if raw is None:
            return md_error(
                400,
                "the REST-Range header is required: send 'REST-Range: resources=0-100' "
                f"(end exclusive, at most {MAX_PAGE} documents per request)",
            )
        m = _RANGE_RE.match(raw)
        if not m:
            return md_error(400, f"REST-Range must look like 'resources=0-100', got {raw!r}")
        first, end = int(m.group(1)), int(m.group(2))
        if end <= first:
            return md_error(400, f"REST-Range {raw!r}: the end must be greater than the start (end is exclusive)")
        if end - first > MAX_PAGE:
            return md_error(400, f"REST-Range {raw!r} asks for {end - first} documents; at most {MAX_PAGE} per request")
        if end > MAX_DEPTH:
            return md_error(
                400,
                f"REST-Range {raw!r} goes past document {MAX_DEPTH}: search reaches only the first "
                f"{MAX_DEPTH} documents; use /scroll to read more",
            )
        result = self._query(req, entity)
        if isinstance(result, Response):
            return result
        rows, total = result
        page = rows[first:end]
        said = _said_total(total, self.config.md_search_total)
        headers = {} if said is None else {"REST-Content-Range": f"resources {first}-{first + len(page)}/{said}"}
        return json_response(200, page, headers)

    def scroll(self, req: Request, entity: str) -> Response:
        now = self._clock()
        token = req.query.get("_token")
        with self.lock:
            self._expire(now)
            if token:
                sc = self.scrolls.get(token)
                if sc is None or sc.entity != entity:
                    return md_error(400, f"Operation not found for this token: '{token}'")
                sc.last_used = now
                page = sc.rows[sc.cursor : sc.cursor + sc.size]
                sc.cursor += len(page)
                if not page:
                    del self.scrolls[token]  # the query is finished: its slot is free again
                return json_response(200, page, {"X-VTEX-MD-TOKEN": token, "REST-Content-Total": str(len(sc.rows))})
        raw_size = req.query.get("_size") or "100"
        try:
            size = int(raw_size)
        except ValueError:
            return md_error(400, f"_size must be an integer, got {raw_size!r}")
        if not 1 <= size <= MAX_SCROLL_SIZE:
            return md_error(400, f"_size must be between 1 and {MAX_SCROLL_SIZE}, got {size}")
        result = self._query(req, entity)
        if isinstance(result, Response):
            return result
        rows, total = result
        with self.lock:
            self._expire(now)
            if len(self.scrolls) >= self.config.max_scrolls:
                return md_error(
                    429,
                    f"too many simultaneous scrolls: at most {self.config.max_scrolls} per account; "
                    "finish a scroll (read until an empty page) or wait for its token to expire",
                )
            token = uuid.uuid4().hex
            self.scrolls[token] = sc = _Scroll(token, entity, rows, size, 0, now)
            page = rows[:size]
            sc.cursor = len(page)
        return json_response(200, page, {"X-VTEX-MD-TOKEN": token, "REST-Content-Total": str(total)})

    def _expire(self, now: float) -> None:
        ttl = self.config.scroll_ttl_s
        for token in [t for t, sc in self.scrolls.items() if now - sc.last_used > ttl]:
            del self.scrolls[token]

    # -- seeding ---------------------------------------------------------------------------------------------------

    def seed(self, entity: str, documents: Iterable[dict[str, Any]]) -> int:
        """Store ``documents`` (each with its ``id``) in ``entity`` without a request, as if written long ago: search
        and scroll see them at once. Each gets the system fields and is matched against the entity's saved schemas
        as a write is (a search with ``_schema`` finds only those that comply); a persisted sandbox keeps them. For
        filling a large store quickly (benchmarks, tests), where writing each over HTTP would take longer than what
        is measured. Returns how many were stored."""
        if not _ENTITY_RE.match(entity):
            raise ValueError(f"{entity!r} is not a valid data entity name")
        n = 0
        with self.lock:
            ent = self._entity(entity)
            for body in documents:
                doc_id = str(body.get("id") or "")
                if not _ID_RE.match(doc_id):
                    raise ValueError(f"{doc_id!r} is not a valid document id")
                rec = ent.docs.get(doc_id.lower())
                self._write(ent, doc_id, self._new_doc(ent, doc_id, body, rec.current if rec else None), at=-math.inf)
                n += 1
        return n

    # -- persistence -----------------------------------------------------------------------------------------------

    def replay(self, record: dict[str, Any]) -> None:
        """Apply one persisted record; replayed documents count as written long ago (no search lag)."""
        with self.lock:
            ent = self._entity(record["entity"])
            if record["op"] == "schema":
                self._apply_schema(ent, record["name"], record["schema"])
            elif record["op"] == "document":
                self._write(ent, record["id"], record["doc"], at=float("-inf"), log=False)


def _said_total(total: int, mode: str) -> int | None:
    """The total as ``REST-Content-Range`` says it (refundkit.sandbox.config.SearchTotal); None: no header."""
    if mode == "missing":
        return None
    if mode == "capped":
        return min(total, 300)
    if mode == "rounded" and total >= 100:
        digits = len(str(total)) - 2
        return round(total, -digits)
    return total


def _where_without_its_schema(where: Node, ent: _Entity, schema: str | None) -> Response | None:
    """The 400 for a conditional write whose ``_where`` comes without ``_schema`` (the spec: "required when using
    ``_where``") or names a field that schema does not declare; None when the write may go ahead."""
    if not schema:
        return md_error(400, "the _schema parameter is required when _where is sent")
    declared = set(ent.schemas[schema].get("properties") or {}) | set(SYSTEM_FIELDS)
    for f in sorted(where.fields()):
        if f.split(".")[0] not in declared:
            return md_error(400, f"Field '{f}' not found in schema '{schema}'")
    return None


def _cache_off(ent: _Entity) -> bool:
    """VTEX caches reads by id unless the entity's schema says ``"v-cache": false`` (as refundkit's schemas do)."""
    return any(schema.get("v-cache") is False for schema in ent.schemas.values())
