"""Master Data v2: documents, schemas, conditional writes, search lag, search paging and scroll."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx
import pytest

from refundkit.testing import ManualClock

from .conftest import auth_headers, served, small_config

E = "/api/dataentities/offlineRefund"
SCHEMA = {
    "properties": {
        "orderId": {"type": "string"},
        "amount": {"type": "integer", "minimum": 1},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "status": {"type": "string"},
        "version": {"type": "integer"},
    },
    "required": ["orderId", "amount", "currency"],
    "v-indexed": ["orderId", "status", "amount", "version"],
}


def rng(first: int, end: int) -> dict:
    return {"REST-Range": f"resources={first}-{end}"}


def save_schema(c: httpx.Client, name: str = "v1", schema: dict | None = None) -> None:
    r = c.put(f"{E}/schemas/{name}", json=schema or SCHEMA)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "Message": "JSON Schema persisted successfully. Revalidation and indexing process running in background."
    }


def get_all(c: httpx.Client, doc_id: str) -> httpx.Response:
    return c.get(f"{E}/documents/{doc_id}", params={"_fields": "_all"})


def test_create_get_replace_patch(md):
    sb, c = md
    r = c.post(f"{E}/documents", json={"orderId": "1-01", "amount": 500, "currency": "BRL"})
    assert r.status_code == 201
    created = r.json()
    doc_id = created["DocumentId"]
    assert created["Id"] == f"offlineRefund-{doc_id}"
    assert created["Href"].endswith(f"/api/dataentities/offlineRefund/documents/{doc_id}")

    minimal = c.get(f"{E}/documents/{doc_id}").json()
    assert minimal == {
        "id": doc_id,
        "accountId": minimal["accountId"],
        "accountName": sb.config.account,
        "dataEntityId": "offlineRefund",
    }
    full = get_all(c, doc_id).json()
    assert full["amount"] == 500 and full["createdIn"] and full["updatedIn"]
    assert c.get(f"{E}/documents/{doc_id}", params={"_fields": "amount,currency"}).json() == {
        "amount": 500,
        "currency": "BRL",
    }

    assert c.put(f"{E}/documents/{doc_id}", json={"orderId": "1-01", "amount": 700}).status_code == 204
    replaced = get_all(c, doc_id).json()
    assert replaced["amount"] == 700 and "currency" not in replaced  # PUT replaces the whole document
    assert replaced["createdIn"] == full["createdIn"]

    assert c.patch(f"{E}/documents/{doc_id}", json={"currency": "USD"}).status_code == 204
    patched = get_all(c, doc_id).json()
    assert (patched["amount"], patched["currency"]) == (700, "USD")

    # PUT and PATCH on an unknown id create it
    assert c.put(f"{E}/documents/custom-1", json={"amount": 1}).status_code == 204
    assert c.patch(f"{E}/documents/custom-2", json={"amount": 2}).status_code == 204
    assert get_all(c, "custom-2").json()["amount"] == 2
    # PATCH /documents with the id in the body
    r = c.patch(f"{E}/documents", json={"id": "custom-2", "status": "ok"})
    assert r.status_code == 200 and r.json()["DocumentId"] == "custom-2"
    assert get_all(c, "custom-2").json()["status"] == "ok"


def test_unknown_document_is_404_with_message(md):
    _, c = md
    r = c.get(f"{E}/documents/nope")
    assert r.status_code == 404 and "Message" in r.json()


def test_body_must_be_a_json_object(md):
    _, c = md
    assert c.put(f"{E}/documents/x", content=b"[1, 2]").status_code == 400
    assert c.post(f"{E}/documents", content=b"{oops").status_code == 400


def test_ids_are_case_insensitive(md):
    _, c = md
    assert c.put(f"{E}/documents/ABC-1", json={"amount": 1}).status_code == 204
    assert c.patch(f"{E}/documents/abc-1", json={"status": "x"}).status_code == 204
    doc = get_all(c, "Abc-1").json()
    assert doc["id"] == "ABC-1" and doc["amount"] == 1 and doc["status"] == "x"
    # the search index is case-sensitive (VTEX known issue): two spellings, two hits
    hits = c.get(f"{E}/search", params={"_fields": "id,amount"}, headers=rng(0, 10)).json()
    assert sorted(h["id"] for h in hits) == ["ABC-1", "abc-1"]


def test_schema_validation_on_write(md):
    _, c = md
    save_schema(c)
    ok = {"orderId": "1-01", "amount": 100, "currency": "BRL"}
    assert c.post(f"{E}/documents", params={"_schema": "v1"}, json=ok).status_code == 201
    r = c.post(f"{E}/documents", params={"_schema": "v1"}, json={**ok, "amount": "100"})
    assert r.status_code == 400 and "amount" in r.json()["Message"]
    r = c.put(f"{E}/documents/r1", params={"_schema": "v1"}, json={"orderId": "1-01", "amount": 1})
    assert r.status_code == 400 and "currency" in r.json()["Message"]
    assert c.put(f"{E}/documents/r1", params={"_schema": "v1"}, json=ok).status_code == 204
    # PATCH is validated on the merged result
    r = c.patch(f"{E}/documents/r1", params={"_schema": "v1"}, json={"currency": "reais"})
    assert r.status_code == 400
    assert get_all(c, "r1").json()["currency"] == "BRL"
    assert c.patch(f"{E}/documents/r1", params={"_schema": "v1"}, json={"status": "x"}).status_code == 204
    # without _schema nothing is validated at write time
    assert c.put(f"{E}/documents/r2", json={"amount": "lots"}).status_code == 204
    assert c.put(f"{E}/documents/r3", params={"_schema": "nope"}, json=ok).status_code == 400


def test_schemas_get_and_the_single_schema_quirk(md):
    _, c = md
    assert c.get(f"{E}/schemas").json() == []
    assert c.get(f"{E}/schemas/v1").status_code == 404
    save_schema(c)
    assert c.get(f"{E}/schemas/v1").json() == SCHEMA
    assert c.get(f"{E}/schemas").json() == SCHEMA  # one schema: a bare object, as the spec says
    save_schema(c, "v2", {"properties": {"x": {"type": "string"}}})
    listed = c.get(f"{E}/schemas").json()
    assert [s["name"] for s in listed] == ["v1", "v2"] and listed[0]["schema"] == SCHEMA
    assert c.put(f"{E}/schemas/bad", json={"properties": {"x": {"type": 5}}}).status_code == 400
    assert c.put(f"{E}/schemas/bad", json={"type": "object"}).status_code == 400


#: A schema for conditional writes: it declares the fields the conditions below name.
CW_SCHEMA = {"properties": {"version": {"type": "integer"}, "status": {"type": "string"}, "writer": {}}}


def cw(where: str) -> dict:
    """A conditional write's parameters: ``_where`` always with its ``_schema``, as VTEX's spec requires."""
    return {"_where": where, "_schema": "cw"}


def test_conditional_write_304_and_create_when_absent(md):
    _, c = md
    save_schema(c, "cw", CW_SCHEMA)
    # absent: the condition is not evaluated, the write creates the document
    assert c.put(f"{E}/documents/c1", params=cw("version=99"), json={"version": 1}).status_code == 204
    r = c.put(f"{E}/documents/c1", params=cw("version=5"), json={"version": 6})
    assert r.status_code == 304 and r.content == b""
    assert get_all(c, "c1").json()["version"] == 1
    assert c.put(f"{E}/documents/c1", params=cw("version=1"), json={"version": 2}).status_code == 204
    assert c.patch(f"{E}/documents/c1", params=cw("version=1"), json={"version": 3}).status_code == 304
    assert (
        c.patch(f"{E}/documents/c1", params=cw("version=2 AND status is null"), json={"version": 3}).status_code == 204
    )
    assert get_all(c, "c1").json()["version"] == 3
    r = c.put(f"{E}/documents/c1", params=cw("version=="), json={"version": 4})
    assert r.status_code == 400 and "Message" in r.json()


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_where_without_its_schema_or_on_an_undeclared_field_is_refused_and_writes_nothing(md, method: str) -> None:
    """VTEX's spec: ``_schema`` is "required when using ``_where``"; a condition names a field the schema declares."""
    _, c = md
    save_schema(c, "cw", CW_SCHEMA)
    assert c.put(f"{E}/documents/c2", json={"version": 1}).status_code == 204
    for params, problem in (
        ({"_where": "version=1"}, "_schema parameter is required"),
        ({"_where": "revision=1", "_schema": "cw"}, "Field 'revision' not found in schema 'cw'"),
        ({"_where": "version=1 AND owner.name=x", "_schema": "cw"}, "Field 'owner.name' not found"),
    ):
        r = c.request(method, f"{E}/documents/c2", params=params, json={"version": 2})
        assert r.status_code == 400 and problem in r.json()["Message"]
        assert get_all(c, "c2").json()["version"] == 1
    ok = c.request(
        method, f"{E}/documents/c2", params={"_where": "id=c2 AND version=1", "_schema": "cw"}, json={"version": 2}
    )
    assert ok.status_code == 204 and get_all(c, "c2").json()["version"] == 2  # system fields are always declared


def test_conditional_writes_are_atomic_under_concurrency():
    with served(small_config()) as (sb, srv, c):
        save_schema(c, "cw", CW_SCHEMA)
        assert c.put(f"{E}/documents/ledger", json={"version": 0, "writer": None}).status_code == 204
        threads, rounds = 20, 5
        wins: list[list[int]] = [[] for _ in range(rounds)]
        barrier = threading.Barrier(threads)
        lock = threading.Lock()
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            try:
                with httpx.Client(base_url=srv.base_url, headers=auth_headers(sb), timeout=10) as cl:
                    for rnd in range(rounds):
                        barrier.wait()
                        seen = cl.get(f"{E}/documents/ledger", params={"_fields": "_all"}).json()["version"]
                        assert seen == rnd
                        barrier.wait()  # everyone has read the same version before anyone writes
                        r = cl.put(
                            f"{E}/documents/ledger",
                            params=cw(f"version={seen}"),
                            json={"version": seen + 1, "writer": n},
                        )
                        assert r.status_code in (204, 304)
                        if r.status_code == 204:
                            with lock:
                                wins[rnd].append(n)
                        barrier.wait()
            except BaseException as exc:
                errors.append(exc)
                barrier.abort()

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert not errors, errors[0]
        assert [len(w) for w in wins] == [1] * rounds  # exactly one winner per version
        final = get_all(c, "ledger").json()
        assert final["version"] == rounds and final["writer"] == wins[-1][0]


def test_search_lag_hides_new_documents_and_shows_old_versions():
    clock = ManualClock()
    with served(small_config(search_lag_s=0.4), clock=clock) as (_sb, _srv, c):

        def search() -> list[dict]:
            return c.get(f"{E}/search", params={"_fields": "id,amount"}, headers=rng(0, 100)).json()

        assert c.put(f"{E}/documents/lag1", json={"amount": 1}).status_code == 204
        assert get_all(c, "lag1").json()["amount"] == 1  # GET by id is immediate
        assert search() == []
        clock.advance(0.39)
        assert search() == []  # still within the lag
        clock.advance(0.02)
        assert search() == [{"id": "lag1", "amount": 1}]
        assert c.patch(f"{E}/documents/lag1", json={"amount": 2}).status_code == 204
        assert get_all(c, "lag1").json()["amount"] == 2
        assert search() == [{"id": "lag1", "amount": 1}]  # search still shows the old version
        clock.advance(0.5)
        assert search() == [{"id": "lag1", "amount": 2}]
        # scroll sees the same lagged view
        assert c.put(f"{E}/documents/lag2", json={"amount": 3}).status_code == 204
        assert [d["id"] for d in c.get(f"{E}/scroll", params={"_fields": "id"}).json()] == ["lag1"]


def fill(c: httpx.Client, n: int) -> None:
    for i in range(n):
        r = c.put(
            f"{E}/documents/d{i:04d}",
            json={"orderId": f"{i}-01", "amount": i + 1, "currency": "BRL", "status": "even" if i % 2 == 0 else "odd"},
        )
        assert r.status_code == 204


def test_search_range_headers_and_paging(md):
    _sb, c = md
    fill(c, 250)
    r = c.get(f"{E}/search", params={"_fields": "id,amount", "_sort": "amount ASC"}, headers=rng(0, 100))
    assert r.status_code == 200
    assert r.headers["REST-Content-Range"] == "resources 0-100/250"
    assert [d["amount"] for d in r.json()] == list(range(1, 101))
    r = c.get(f"{E}/search", params={"_fields": "id,amount", "_sort": "amount ASC"}, headers=rng(200, 300))
    assert r.headers["REST-Content-Range"] == "resources 200-250/250" and len(r.json()) == 50
    r = c.get(
        f"{E}/search",
        params={"_where": "status=even AND amount>100", "_fields": "amount", "_sort": "amount DESC"},
        headers=rng(0, 10),
    )
    assert r.headers["REST-Content-Range"] == "resources 0-10/75"
    assert r.json()[0] == {"amount": 249}
    r = c.get(f"{E}/search", params={"status": "odd", "_fields": "id"}, headers=rng(0, 5))
    assert r.headers["REST-Content-Range"] == "resources 0-5/125"
    # without _fields: only the internal fields
    doc = c.get(f"{E}/search", headers=rng(0, 1)).json()[0]
    assert set(doc) == {"id", "accountId", "accountName", "dataEntityId"}

    assert c.get(f"{E}/search").status_code == 400  # REST-Range is required
    for bad in ("resources=0-101", "resources=5-5", "items=0-10", "resources=9950-10050"):
        r = c.get(f"{E}/search", headers={"REST-Range": bad})
        assert r.status_code == 400 and "Message" in r.json()
    r = c.get(f"{E}/search", headers=rng(9990, 10010))
    assert r.status_code == 400 and "scroll" in r.json()["Message"]
    assert c.get(f"{E}/search", headers=rng(9900, 10000)).json() == []
    assert c.get(f"{E}/search", params={"_where": "amount=="}, headers=rng(0, 10)).status_code == 400
    assert c.get(f"{E}/search", params={"_sort": "amount SIDEWAYS"}, headers=rng(0, 10)).status_code == 400


def test_unsorted_search_order_is_unspecified_and_changes_after_writes(md):
    _, c = md
    fill(c, 40)
    first = [d["id"] for d in c.get(f"{E}/search", params={"_fields": "id"}, headers=rng(0, 40)).json()]
    assert sorted(first) == [f"d{i:04d}" for i in range(40)]
    assert first != sorted(first)
    assert c.patch(f"{E}/documents/d0000", json={"status": "touched"}).status_code == 204
    second = [d["id"] for d in c.get(f"{E}/search", params={"_fields": "id"}, headers=rng(0, 40)).json()]
    assert sorted(second) == sorted(first) and second != first


def test_indexed_fields_with_a_schema(md):
    _, c = md
    save_schema(c)
    fill(c, 3)
    ok = c.get(f"{E}/search", params={"_where": "status=odd", "_schema": "v1", "_fields": "id"}, headers=rng(0, 10))
    assert ok.status_code == 200 and ok.json() == [{"id": "d0001"}]
    r = c.get(f"{E}/search", params={"_where": "currency=BRL", "_schema": "v1"}, headers=rng(0, 10))
    assert r.status_code == 400 and r.json() == {"Message": "Field 'currency' not found in schema"}
    r = c.get(f"{E}/search", params={"_sort": "currency ASC"}, headers=rng(0, 10))
    assert r.status_code == 400
    assert c.get(f"{E}/search", params={"_sort": "createdIn DESC"}, headers=rng(0, 10)).status_code == 200
    # _schema filters to documents valid against it
    assert c.put(f"{E}/documents/invalid", json={"orderId": "x-01", "amount": 0, "currency": "BRL"}).status_code == 204
    ids = [d["id"] for d in c.get(f"{E}/search", params={"_schema": "v1", "_fields": "id"}, headers=rng(0, 10)).json()]
    assert "invalid" not in ids and len(ids) == 3


def test_scroll_to_exhaustion(md):
    _, c = md
    fill(c, 250)
    r = c.get(
        f"{E}/scroll", params={"_size": 100, "_fields": "id,amount", "_sort": "amount ASC", "_where": "amount>10"}
    )
    assert r.status_code == 200
    token = r.headers["X-VTEX-MD-TOKEN"]
    assert r.headers["REST-Content-Total"] == "240"
    seen = [d["amount"] for d in r.json()]
    while True:
        r = c.get(f"{E}/scroll", params={"_token": token})
        assert r.status_code == 200
        if not r.json():
            break
        seen += [d["amount"] for d in r.json()]
    assert seen == list(range(11, 251))
    assert c.get(f"{E}/scroll", params={"_size": 1001}).status_code == 400
    r = c.get(f"{E}/scroll", params={"_token": "not-a-token"})
    assert r.status_code == 400 and r.json() == {"Message": "Operation not found for this token: 'not-a-token'"}


def test_scroll_tokens_expire_and_are_limited(md):
    sb, c = md
    fill(c, 5)
    sb.config.scroll_ttl_s = 0.3
    token = c.get(f"{E}/scroll", params={"_size": 2}).headers["X-VTEX-MD-TOKEN"]
    sb.clock.advance(0.2)
    assert c.get(f"{E}/scroll", params={"_token": token}).status_code == 200  # use resets the timer
    sb.clock.advance(0.2)
    assert c.get(f"{E}/scroll", params={"_token": token}).status_code == 200
    sb.clock.advance(0.31)
    r = c.get(f"{E}/scroll", params={"_token": token})
    assert r.status_code == 400 and token in r.json()["Message"]

    sb.config.scroll_ttl_s = 60
    tokens = [c.get(f"{E}/scroll", params={"_size": 1}).headers["X-VTEX-MD-TOKEN"] for _ in range(10)]
    r = c.get(f"{E}/scroll", params={"_size": 1})
    assert r.status_code == 429 and "10" in r.json()["Message"]
    while c.get(f"{E}/scroll", params={"_token": tokens[0]}).json():  # finishing a scroll frees its slot
        pass
    assert c.get(f"{E}/scroll", params={"_size": 1}).status_code == 200


def test_delete_works_and_is_recorded(md):
    sb, c = md
    assert c.put(f"{E}/documents/gone", json={"amount": 1}).status_code == 204
    assert c.delete(f"{E}/documents/gone").status_code == 204
    assert c.get(f"{E}/documents/gone").status_code == 404
    assert [(r.method, r.path, r.status) for r in sb.deletes] == [("DELETE", f"{E}/documents/gone", 204)]
    sb.deletes.clear()  # the fixture checks nothing else; refundkit itself must never delete


@pytest.mark.parametrize("entity", ["CL", "offlineRefund", "refund_ledger"])
def test_unknown_entity_is_created_on_first_write(md, entity):
    _, c = md
    base = f"/api/dataentities/{entity}"
    assert c.get(f"{base}/search", headers=rng(0, 10)).json() == []
    assert c.post(f"{base}/documents", json={"a": 1}).status_code == 201
    assert len(c.get(f"{base}/search", headers=rng(0, 10)).json()) == 1


def test_a_deleted_document_written_again_takes_the_new_spelling(md):
    sb, c = md
    assert c.put(f"{E}/documents/MiXed", json={"amount": 1}).status_code == 204
    assert c.delete(f"{E}/documents/mixed").status_code == 204
    assert c.put(f"{E}/documents/mixed", json={"amount": 2}).status_code == 204
    assert get_all(c, "MIXED").json()["id"] == "mixed"
    hits = c.get(f"{E}/search", params={"_fields": "id,amount"}, headers=rng(0, 10)).json()
    assert hits == [{"id": "mixed", "amount": 2}]
    sb.deletes.clear()


def test_schema_validation_loads_once_for_threads_that_ask_at_once() -> None:
    # a fresh interpreter: this one imported jsonschema long ago
    script = """
import sys, threading
from refundkit.sandbox.masterdata import _jsonschema
got, errors = [], []
def ask():
    try:
        got.append(_jsonschema().Draft7Validator)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=ask) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
assert errors == [] and len(got) == 8, errors
assert "rfc3987_syntax" not in sys.modules  # its grammar was not built
import rfc3987_syntax  # and it is still there for anyone who wants it
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_seeded_documents_are_found_at_once_as_if_written_long_ago():
    """``MasterData.seed`` (for benchmarks and tests that need a large store): no request, search sees the documents
    at once although it lags a minute behind writes, reads by id get the system fields, and a search under a schema
    finds only those that comply."""
    with served(small_config(search_lag_s=60), clock=ManualClock()) as (sb, _srv, c):
        save_schema(c)
        sb.clear_records()
        ok = [{"id": f"d-{k}", "orderId": f"{k}-01", "amount": 100 + k, "currency": "BRL"} for k in range(3)]
        bad = {"id": "d-bad", "orderId": "9-01", "amount": 0, "currency": "BRL"}  # below the schema's minimum
        assert sb.masterdata.seed("offlineRefund", [*ok, bad]) == 4
        assert sb.requests == []
        doc = get_all(c, "d-1").json()
        assert doc["amount"] == 101 and doc["dataEntityId"] == "offlineRefund"
        assert doc["accountName"] == sb.config.account and doc["createdIn"]
        hits = c.get(f"{E}/search", params={"_fields": "id", "_sort": "id ASC"}, headers=rng(0, 99)).json()
        assert [h["id"] for h in hits] == ["d-0", "d-1", "d-2", "d-bad"]
        under = c.get(f"{E}/search", params={"_fields": "id", "_schema": "v1", "_sort": "id ASC"}, headers=rng(0, 99))
        assert [h["id"] for h in under.json()] == ["d-0", "d-1", "d-2"]
        c.put(f"{E}/documents/d-0", json={**ok[0], "amount": 555})  # a write after the seed lags as any write does
        hits = c.get(f"{E}/search", params={"_fields": "id,amount", "_where": "amount=100"}, headers=rng(0, 99))
        assert [h["id"] for h in hits.json()] == ["d-0"]
        with pytest.raises(ValueError, match="not a valid document id"):
            sb.masterdata.seed("offlineRefund", [{"orderId": "no id"}])
