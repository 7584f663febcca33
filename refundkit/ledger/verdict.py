"""What this account's Master Data does with conditional writes, probed once and kept with its date.

Recording exactly once rests on conditional writes (see :mod:`refundkit.ledger.recording`), and VTEX documents
neither the answer to a write whose ``_where`` fails, nor what a condition on an id that holds no document does, nor
that conditions are honoured at all. :func:`probe_master_data` finds out on scratch documents of a clearly named
scratch entity (never on the ledger), :class:`MasterDataVerdict` says whether exactly-once can hold there, and
:func:`save_verdict` / :func:`load_verdict` keep it as JSON under the cache dir.

The probe writes exactly as the ledger writes: every write carries ``_schema`` (the scratch schema
:data:`SCRATCH_SCHEMA`, saved first if it is missing), and each condition is on ``version``, a field that schema
declares (and indexes) as the ledger's order schema does. VTEX's spec says ``_schema`` is required with ``_where``;
an account that answers a ``_where`` without it, or on an undeclared field, differently from the real writes would
otherwise get a verdict that does not describe them.

What the probe does (about ten calls, all on ``refundkitScratch``):

1. *Are conditions honoured?* It writes a fresh ``probe-condition-…`` with ``version: 1``, then writes it again under
   ``_where=version=7`` (false) and reads it back: still version 1 means honoured (and the answer's status is what
   the account says to a failed condition). Then once more under ``_where=version=1`` (true): the write must apply.
2. *A condition on a missing document.* On a fresh id it writes under ``_where=version=1``, which an empty document
   fails: if the document now exists, the condition was ignored (``created``). If not, on another fresh id under
   ``_where=version is null``, which an empty document satisfies: created means ``empty-document``, still missing
   means every conditional write on a missing document is ``refused``.

The scratch documents stay: refundkit never deletes (its allowlist has no DELETE and its key needs no remove
permission). Each probe leaves two small documents there, which anyone may delete.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from ..errors import LedgerError, PermissionDenied
from .schemas import HEAD_SCHEMA

if TYPE_CHECKING:
    from ..vtex.masterdata import MasterData

__all__ = [
    "SCRATCH_ENTITY",
    "SCRATCH_SCHEMA",
    "SCRATCH_SCHEMA_BODY",
    "MasterDataVerdict",
    "MissingDocument",
    "forget_verdict",
    "load_verdict",
    "probe_master_data",
    "save_scratch_schema",
    "save_verdict",
    "verdict_path",
    "write_verdict",
]

log = logging.getLogger("refundkit.ledger")

SCRATCH_ENTITY: Final = "refundkitScratch"
SCRATCH_SCHEMA: Final = "refundkit-doctor"
#: The scratch entity's schema. Like the ledger's order schema it declares and indexes ``version``, the field every
#: condition names, and sets ``v-cache: false``, so reads by id there are not served from a cache the ledger's entities
#: do not have either (VTEX caches reads by id unless a schema turns it off). ``token``/``n``/``writtenAt`` are the
#: doctor's read-your-writes and search-lag documents.
SCRATCH_SCHEMA_BODY: Final[dict[str, Any]] = {
    "title": "refundkit doctor scratch documents (probes only; safe to delete)",
    "type": "object",
    "properties": {
        "id": HEAD_SCHEMA["properties"]["id"],
        "version": HEAD_SCHEMA["properties"]["version"],  # the ledger's own declaration of the condition's field
        "probe": {"type": "string"},
        "token": {"type": "string"},
        "n": {"type": "integer"},
        "writtenAt": {"type": "string"},
    },
    "v-indexed": ["version"],
    "v-cache": False,
}
MissingDocument = Literal["created", "empty-document", "refused"]
_FORMAT: Final = 1


@dataclass(frozen=True)
class MasterDataVerdict:
    """How an account's Master Data answers conditional writes, as probed at ``checked_at``."""

    account: str
    checked_at: datetime  # aware, UTC
    #: a PUT whose ``_where`` fails leaves the stored document unchanged
    conditions_honoured: bool
    #: what a condition on an id with no document does: ignored and the document created; evaluated against an
    #: empty document; or refused
    missing_document: MissingDocument
    #: what the account answered to a failed condition (for the report only: refundkit never decides by status)
    failed_condition_status: int
    #: a PUT whose ``_where`` holds is applied (without it nothing could ever be recorded)
    holding_condition_applied: bool = True

    def exactly_once_holds(self) -> tuple[bool, str]:
        """(True, how) where refundkit can record exactly once on this account; (False, why not) otherwise."""
        where = f"Master Data of account {self.account} (checked {self.checked_at:%Y-%m-%d %H:%M} UTC)"
        if not self.conditions_honoured:
            return False, (
                f"{where} ignores _where conditions on writes, so two recorders at once could overwrite each other's "
                "refunds; refundkit cannot record exactly once there and writes nothing (ask VTEX support, then run "
                "`refundkit doctor` again)"
            )
        if self.missing_document == "refused":
            return False, (
                f"{where} refuses every conditional write on a document that does not exist yet, so an order's first "
                "refund could only be written unconditionally, which could overwrite another recorder's; refundkit "
                "cannot record exactly once there and writes nothing (run `refundkit doctor` again once it changes)"
            )
        if not self.holding_condition_applied:
            return False, (
                f"{where} did not apply a conditional write whose condition held, so refundkit cannot append to an "
                "order's ledger; it writes nothing (run `refundkit doctor` again once it changes)"
            )
        first = (
            "ignores a condition on a missing document and creates it"
            if self.missing_document == "created"
            else "evaluates a condition on a missing document against an empty document"
        )
        return True, (
            f"{where} honours _where conditions (a failed one answers {self.failed_condition_status}) and {first}: "
            "an order's first entry is created under _where=version is null, every later one under _where=version=v"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "account": self.account,
            "checked_at": self.checked_at.astimezone(UTC).isoformat(),
            "conditions_honoured": self.conditions_honoured,
            "missing_document": self.missing_document,
            "failed_condition_status": self.failed_condition_status,
            "holding_condition_applied": self.holding_condition_applied,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MasterDataVerdict:
        """Raises ValueError, KeyError or TypeError when ``data`` is not a verdict this version wrote."""
        if data.get("format") != _FORMAT:
            raise ValueError(f"unknown verdict format {data.get('format')!r}")
        checked_at = datetime.fromisoformat(str(data["checked_at"]))
        if checked_at.tzinfo is None:
            raise ValueError("checked_at has no time zone")
        missing = data["missing_document"]
        if missing not in get_args(MissingDocument):
            raise ValueError(f"unknown missing_document {missing!r}")
        for key in ("conditions_honoured", "holding_condition_applied"):
            if not isinstance(data.get(key, True), bool):
                raise TypeError(f"{key} is not a boolean")
        status = data["failed_condition_status"]
        if not isinstance(status, int) or isinstance(status, bool):
            raise TypeError("failed_condition_status is not an integer")
        return cls(
            account=str(data["account"]),
            checked_at=checked_at.astimezone(UTC),
            conditions_honoured=data["conditions_honoured"],
            missing_document=missing,
            failed_condition_status=status,
            holding_condition_applied=data.get("holding_condition_applied", True),
        )


def _version(doc: dict[str, Any] | None, nonce: str) -> int | None:
    """The scratch document's version if it is this probe's document, else None."""
    if doc is None or doc.get("probe") != nonce:
        return None
    v = doc.get("version")
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def save_scratch_schema(md: MasterData, *, force: bool = False) -> str:
    """Save the scratch entity's schema unless it is saved already (``force``: save anyway, which proves the key holds
    Master Data administrator). Returns a line saying what was done."""
    what = f"schema {SCRATCH_SCHEMA} of {SCRATCH_ENTITY} (doctor's scratch documents)"
    if not force:
        current = md.get_schema(SCRATCH_ENTITY, SCRATCH_SCHEMA)
        if current is not None and all(current.get(k) == v for k, v in SCRATCH_SCHEMA_BODY.items()):
            return f"{what}: already up to date"
    md.save_schema(SCRATCH_ENTITY, SCRATCH_SCHEMA, SCRATCH_SCHEMA_BODY)
    return f"{what}: saved"


def probe_master_data(
    md: MasterData,
    *,
    account: str,
    scratch_entity: str = SCRATCH_ENTITY,
    now: datetime | None = None,
) -> MasterDataVerdict:
    """Probe the account's conditional writes on scratch documents of ``scratch_entity`` (never the ledger's).

    Raises :class:`~refundkit.errors.VtexError` when VTEX cannot be reached or refuses the scratch writes (a key
    without Master Data write permission), and :class:`~refundkit.errors.LedgerError` when the scratch entity does
    not keep what was written, or its schema is missing and this key may not save it (nothing can be concluded
    then)."""
    if scratch_entity == SCRATCH_ENTITY:
        try:
            save_scratch_schema(md)
        except PermissionDenied:
            raise LedgerError(
                f"the schema {SCRATCH_SCHEMA} of {SCRATCH_ENTITY}, which the conditional-write probe writes under as "
                "the ledger writes under its own, is not saved and this key may not save it: run `refundkit setup` "
                "once with Master Data administrator"
            ) from None
    nonce = uuid.uuid4().hex[:16]
    fields = ["id", "version", "probe"]
    schema = SCRATCH_SCHEMA

    # 1. a failed condition on an existing document must leave it unchanged; a holding one must apply
    cond_id = f"probe-condition-{nonce}"  # one per probe: probes running at once must not meet
    md.put(scratch_entity, cond_id, {"id": cond_id, "version": 1, "probe": nonce}, schema=schema)
    if _version(md.get(scratch_entity, cond_id, fields=fields), nonce) != 1:
        raise LedgerError(
            f"Master Data did not keep a plain write to the scratch document {scratch_entity}/{cond_id}; "
            "nothing can be concluded about conditional writes (try again)"
        )
    failed = md.put_if(
        scratch_entity, cond_id, {"id": cond_id, "version": 2, "probe": nonce}, where="version=7", schema=schema
    )
    after = _version(md.get(scratch_entity, cond_id, fields=fields), nonce)
    honoured = after == 1
    holding_applied = True
    if honoured:
        md.put_if(
            scratch_entity, cond_id, {"id": cond_id, "version": 3, "probe": nonce}, where="version=1", schema=schema
        )
        holding_applied = _version(md.get(scratch_entity, cond_id, fields=fields), nonce) == 3

    # 2. a condition on an id that holds no document
    missing: MissingDocument
    first = f"probe-missing-{nonce}-a"
    md.put_if(scratch_entity, first, {"id": first, "version": 1, "probe": nonce}, where="version=1", schema=schema)
    if md.get(scratch_entity, first, fields=fields) is not None:
        missing = "created"
    else:
        second = f"probe-missing-{nonce}-b"
        md.put_if(
            scratch_entity, second, {"id": second, "version": 1, "probe": nonce}, where="version is null", schema=schema
        )
        missing = "empty-document" if md.get(scratch_entity, second, fields=fields) is not None else "refused"

    verdict = MasterDataVerdict(
        account=account,
        checked_at=(now or datetime.now(UTC)).astimezone(UTC),
        conditions_honoured=honoured,
        missing_document=missing,
        failed_condition_status=failed.status,
        holding_condition_applied=holding_applied,
    )
    log.info("Master Data verdict for %s: %s", account, verdict.exactly_once_holds()[1])
    return verdict


def verdict_path(cache_dir: Path, account: str, kind: str = "masterdata") -> Path:
    """Where an account's verdict of ``kind`` is kept: ``{cache_dir}/verdicts/{kind}-{account}.json``."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in (account or "account"))
    return Path(cache_dir) / "verdicts" / f"{kind}-{safe}.json"


def write_verdict(path: Path, data: dict[str, Any]) -> None:
    """Write a verdict's JSON whole or not at all (a unique temporary file, then an atomic replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_verdict(cache_dir: Path, account: str) -> MasterDataVerdict | None:
    """The verdict saved for ``account``, or None when there is none (or it cannot be read: probe again)."""
    path = verdict_path(cache_dir, account)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        verdict = MasterDataVerdict.from_dict(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the unreadable Master Data verdict %s (%s); it will be probed again", path, exc)
        return None
    if verdict.account != account:
        return None
    return verdict


def save_verdict(cache_dir: Path, verdict: MasterDataVerdict) -> None:
    """Keep the verdict, with its date, as JSON under the cache dir (written whole or not at all)."""
    write_verdict(verdict_path(cache_dir, verdict.account), verdict.as_dict())


def forget_verdict(cache_dir: Path, account: str) -> None:
    """Drop the verdict saved for ``account`` (if any), so the next write probes again. A local sandbox calls this
    when it starts: it may play another Master Data behaviour than the last one did, under the same account name."""
    try:
        verdict_path(cache_dir, account).unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not drop the Master Data verdict of %s under %s: %s", account, cache_dir, exc)
