"""With state_dir, Master Data and notes survive a restart."""

from __future__ import annotations

import json

import pytest

from refundkit.sandbox.persistence import STATE_FILE, StateLog

from .conftest import served, small_config

E = "/api/dataentities/offlineRefund"
RANGE = {"REST-Range": "resources=0-100"}


def test_state_survives_a_restart(tmp_path):
    cfg = small_config(state_dir=tmp_path)
    with served(cfg) as (sb, _srv, c):
        assert (
            c.put(
                f"{E}/schemas/v1", json={"properties": {"amount": {"type": "integer"}}, "v-indexed": ["amount"]}
            ).status_code
            == 200
        )
        assert c.put(f"{E}/documents/keep", params={"_schema": "v1"}, json={"amount": 1}).status_code == 204
        assert c.patch(f"{E}/documents/keep", json={"amount": 2}).status_code == 204
        assert c.put(f"{E}/documents/gone", json={"amount": 3}).status_code == 204
        assert c.delete(f"{E}/documents/gone").status_code == 204
        created = c.post(f"{E}/documents", json={"amount": 4}).json()["DocumentId"]
        order_id = sb.store.orders[0].order_id
        note = c.post(
            "/api/do/notes",
            json={
                "target": {"id": order_id, "type": "order", "url": f"/orders/{order_id}"},
                "domain": "oms",
                "description": "kept",
            },
        ).json()
        before = c.get(f"{E}/documents/keep", params={"_fields": "_all"}).json()
        sb.deletes.clear()

    lines = (tmp_path / STATE_FILE).read_text().splitlines()
    assert [json.loads(line)["op"] for line in lines] == [
        "schema",
        "document",
        "document",
        "document",
        "document",
        "document",
        "note",
    ]

    with served(small_config(state_dir=tmp_path, search_lag_s=30)) as (sb, _srv, c):
        assert c.get(f"{E}/documents/keep", params={"_fields": "_all"}).json() == before
        assert c.get(f"{E}/documents/gone").status_code == 404
        assert c.get(f"{E}/documents/{created}", params={"_fields": "amount"}).json() == {"amount": 4}
        # replayed documents count as written long ago: search sees them despite the 30 s lag
        hits = c.get(f"{E}/search", params={"_fields": "id,amount", "_sort": "amount ASC"}, headers=RANGE).json()
        assert [h["amount"] for h in hits] == [2, 4]
        assert c.get(f"{E}/schemas/v1").status_code == 200
        ids = [
            h["id"]
            for h in c.get(
                f"{E}/search", params={"_schema": "v1", "_where": "amount>1", "_fields": "id"}, headers=RANGE
            ).json()
        ]
        assert sorted(ids) == sorted(["keep", created])
        notes = c.get("/api/do/notes", params={"target.id": order_id}).json()["items"]
        assert notes == [note]
        # and new writes keep appending
        assert c.put(f"{E}/documents/later", json={"amount": 5}).status_code == 204
    assert len((tmp_path / STATE_FILE).read_text().splitlines()) == len(lines) + 1


def test_memory_only_by_default(tmp_path):
    with served(small_config()) as (sb, _srv, c):
        assert sb.log is None
        assert c.put(f"{E}/documents/x", json={"a": 1}).status_code == 204
    assert list(tmp_path.iterdir()) == []


def test_a_line_cut_short_at_the_end_is_ignored(tmp_path):
    log = StateLog(tmp_path)
    log.append({"op": "note", "note": {"id": "N1", "target": {"id": "1-01"}}})
    with open(log.path, "a", encoding="utf-8") as fh:
        fh.write('{"op": "document", "enti')
    assert [r["op"] for r in log.replay()] == ["note"]
    with open(log.path, "a", encoding="utf-8") as fh:
        fh.write('\n{"op": "note"}\n')
    with pytest.raises(ValueError, match="line 2 is not JSON; fix or delete the file"):
        list(log.replay())
