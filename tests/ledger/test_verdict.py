"""Master Data's undocumented answers to conditional writes: the sandbox plays each, the probe tells them apart.

Every combination of (status of a failed condition) x (a condition on a missing document) x (conditions honoured)
is played by one sandbox served on loopback, reconfigured per case (its Master Data options are read per request).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from refundkit.config import load_settings
from refundkit.ledger.verdict import (
    SCRATCH_ENTITY,
    SCRATCH_SCHEMA,
    SCRATCH_SCHEMA_BODY,
    MasterDataVerdict,
    forget_verdict,
    load_verdict,
    probe_master_data,
    save_verdict,
    verdict_path,
)
from refundkit.sandbox import Sandbox, SandboxServer
from refundkit.sandbox.config import CONDITION_STATUSES
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import check_nothing_moved
from refundkit.vtex import VtexClient
from refundkit.vtex.transport import RetryPolicy

from .helpers import small_config

MISSING_MODES = ("created", "empty-document", "refused")
COMBINATIONS = list(itertools.product(CONDITION_STATUSES, MISSING_MODES, (True, False)))
DOCS = f"/api/dataentities/{SCRATCH_ENTITY}/documents"
WHERE = {"_schema": SCRATCH_SCHEMA}  # a _where always goes with its _schema (the spec requires it)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, SandboxServer]]:
    sb = Sandbox(small_config(orders=20))
    with sb.serve(port=0) as srv:
        yield sb, srv
    check_nothing_moved(sb)


def play(sb: Sandbox, status: int, missing: str, honoured: bool) -> None:
    sb.config.md_failed_condition_status = status
    sb.config.md_missing_document = missing  # type: ignore[assignment]  # a value of the Literal, from the list
    sb.config.md_conditions_honoured = honoured


@pytest.fixture
def http(served: tuple[Sandbox, SandboxServer]) -> Iterator[tuple[Sandbox, httpx.Client]]:
    sb, srv = served
    headers = {"X-VTEX-API-AppKey": sb.config.app_key, "X-VTEX-API-AppToken": sb.config.app_token}
    with httpx.Client(base_url=srv.base_url, headers=headers, timeout=10) as c:
        assert c.put(
            f"/api/dataentities/{SCRATCH_ENTITY}/schemas/{SCRATCH_SCHEMA}", json=SCRATCH_SCHEMA_BODY
        ).is_success
        yield sb, c
    play(sb, 304, "created", True)


@pytest.fixture
def client(served: tuple[Sandbox, SandboxServer], tmp_path: Path) -> Iterator[VtexClient]:
    sb, srv = served
    env = {
        **sandbox_variables(srv.base_url, sb.config),
        "REFUNDKIT_CACHE_DIR": str(tmp_path / "cache"),
    }
    with VtexClient(load_settings(env=env, env_file=False), retry=RetryPolicy.fast()) as c:
        yield c
    play(sb, 304, "created", True)


def version(c: httpx.Client, doc_id: str) -> int | None:
    r = c.get(f"{DOCS}/{doc_id}", params={"_fields": "version"})
    return None if r.status_code == 404 else r.json()["version"]


@pytest.mark.parametrize(("status", "missing", "honoured"), COMBINATIONS)
def test_the_sandbox_plays_each_answer_to_a_failed_condition(http, status: int, missing: str, honoured: bool) -> None:
    sb, c = http
    play(sb, status, missing, honoured)
    doc = f"cond-{status}-{missing}-{honoured}"
    assert c.put(f"{DOCS}/{doc}", json={"version": 1}).status_code == 204
    failed = c.put(f"{DOCS}/{doc}", params={**WHERE, "_where": "version=5"}, json={"version": 2})
    if honoured:
        assert failed.status_code == status and version(c, doc) == 1  # nothing written, whatever the status says
    else:
        assert failed.status_code == 204 and version(c, doc) == 2  # the condition was ignored
    held = c.put(f"{DOCS}/{doc}", params={**WHERE, "_where": f"version={version(c, doc)}"}, json={"version": 9})
    assert held.status_code == 204 and version(c, doc) == 9


@pytest.mark.parametrize(("status", "missing", "honoured"), COMBINATIONS)
def test_the_sandbox_plays_each_answer_to_a_condition_on_a_missing_document(
    http, status: int, missing: str, honoured: bool
) -> None:
    sb, c = http
    play(sb, status, missing, honoured)
    created = {}
    for n, where in enumerate(("version=1", "version is null")):
        doc = f"missing-{status}-{missing}-{honoured}-{n}"
        r = c.put(f"{DOCS}/{doc}", params={**WHERE, "_where": where}, json={"version": 1})
        created[where] = version(c, doc) == 1
        assert r.status_code == (204 if created[where] else status)
    expected = {
        "created": {"version=1": True, "version is null": True},
        "empty-document": {"version=1": False, "version is null": True},
        "refused": {"version=1": False, "version is null": False},
    }[missing if honoured else "created"]
    assert created == expected


@pytest.mark.parametrize(("status", "missing", "honoured"), COMBINATIONS)
def test_the_probe_tells_every_combination_apart(
    served, client: VtexClient, status: int, missing: str, honoured: bool
) -> None:
    sb, _ = served
    play(sb, status, missing, honoured)
    before = len(sb.requests)
    v = probe_master_data(client.masterdata, account=sb.config.account)
    probe_requests = list(sb.requests)[before:]
    assert v.conditions_honoured is honoured
    assert v.missing_document == (missing if honoured else "created")
    assert v.failed_condition_status == (status if honoured else 204)
    assert v.holding_condition_applied
    assert v.checked_at.tzinfo is not None and v.checked_at.utcoffset().total_seconds() == 0
    holds, why = v.exactly_once_holds()
    assert holds is (honoured and missing != "refused")
    assert "\n" not in why and sb.config.account in why
    if not honoured:
        assert "ignores _where conditions" in why and "writes nothing" in why
    elif missing == "refused":
        assert "refuses every conditional write on a document that does not exist" in why
    # cheap (at most ten calls, and two more the first time, to save the scratch schema), only on the scratch entity
    assert len(probe_requests) <= 12
    assert all(f"/dataentities/{SCRATCH_ENTITY}/" in r.path for r in probe_requests)


def test_a_verdict_is_kept_with_its_date_and_read_back(tmp_path: Path) -> None:
    v = MasterDataVerdict("mystore", datetime(2026, 11, 30, 22, 0, tzinfo=UTC), True, "empty-document", 412)
    assert load_verdict(tmp_path, "mystore") is None
    save_verdict(tmp_path, v)
    assert load_verdict(tmp_path, "mystore") == v
    assert load_verdict(tmp_path, "otherstore") is None
    saved = json.loads(verdict_path(tmp_path, "mystore").read_text(encoding="utf-8"))
    assert saved["checked_at"] == "2026-11-30T22:00:00+00:00" and saved["failed_condition_status"] == 412
    assert [p.name for p in verdict_path(tmp_path, "mystore").parent.iterdir()] == ["masterdata-mystore.json"]
    # a local sandbox starting under the account name drops it, so the next write probes what it plays now
    forget_verdict(tmp_path, "mystore")
    assert load_verdict(tmp_path, "mystore") is None
    forget_verdict(tmp_path, "mystore")  # nothing to drop: fine


@pytest.mark.parametrize(
    "damage",
    [
        "not json",
        json.dumps({"format": 99}),
        json.dumps({"format": 1, "account": "mystore", "checked_at": "2026-11-30T22:00:00"}),  # naive date
        json.dumps(
            {
                "format": 1,
                "account": "mystore",
                "checked_at": "2026-11-30T22:00:00+00:00",
                "conditions_honoured": "yes",
                "missing_document": "created",
                "failed_condition_status": 304,
            }
        ),
    ],
)
def test_an_unreadable_verdict_is_probed_again(tmp_path: Path, damage: str) -> None:
    path = verdict_path(tmp_path, "mystore")
    path.parent.mkdir(parents=True)
    path.write_text(damage, encoding="utf-8")
    assert load_verdict(tmp_path, "mystore") is None


def test_the_probe_sends_its_conditional_writes_in_the_shape_the_ledger_sends_its_own(env) -> None:
    """The verdict describes the ledger's real writes only if the probe writes as the ledger writes: every ``_where``
    with its ``_schema``, on ``version``, a field that schema declares as an integer and indexes (the sandbox refuses
    anything else with 400, so a probe or a ledger that strayed would fail here and everywhere else)."""
    sb = env.sb
    sb.clear_records()
    ledger = env.ledger(journal=False, verdict_dir=False)
    o = env.orders.invoiced()
    ledger.record(o.order_id, "1.00", "cash", "SHAPE-1")  # the order's first entry: version is null
    ledger.record(o.order_id, "1.00", "cash", "SHAPE-2")  # the next one: version=1
    probe_master_data(ledger.client.masterdata, account=sb.config.account)

    conditional = [r for r in list(sb.requests) if r.method in ("PUT", "PATCH") and "_where" in r.query]
    by_entity: dict[str, list[dict[str, str]]] = {}
    for r in conditional:
        by_entity.setdefault(r.path.split("/")[3], []).append(r.query)
    assert set(by_entity) == {ledger.head_entity, SCRATCH_ENTITY}
    shapes = {entity: {tuple(sorted(q)) for q in queries} for entity, queries in by_entity.items()}
    assert shapes[ledger.head_entity] == shapes[SCRATCH_ENTITY] == {("_schema", "_where")}
    for entity, queries in by_entity.items():
        for q in queries:
            assert re.fullmatch(r"version(=\d+| is null)", q["_where"]), q["_where"]
            schema = sb.masterdata.entities[entity].schemas[q["_schema"]]
            assert schema["properties"]["version"]["type"] == "integer" and "version" in schema["v-indexed"]
    ledger_wheres = {q["_where"] for q in by_entity[ledger.head_entity]}
    assert ledger_wheres == {"version is null", "version=1"}
    assert all(r.status in (204, 304) for r in conditional)  # none refused for its shape
