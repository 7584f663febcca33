"""VTEX DO notes: create, list, get, and VTEX's limits."""

from __future__ import annotations

import pytest

from refundkit.testing import ManualClock

from .conftest import served, small_config

NOTES = "/api/do/notes"


def note_body(order_id: str, text: str = "Offline refund of R$ 10,00 recorded", **extra) -> dict:
    return {
        "target": {"id": order_id, "type": "order", "url": f"/orders/{order_id}"},
        "domain": "oms",
        "description": text,
        **extra,
    }


def test_create_list_and_get_a_note(md):
    sb, c = md
    order_id = sb.store.orders[0].order_id
    r = c.post(NOTES, json=note_body(order_id, createdBy={"id": "u1", "name": "Analyst"}))
    assert r.status_code == 200
    note = r.json()
    assert set(note) == {"id", "domain", "owner", "target", "description", "creationDate", "lastUpdate", "createdBy"}
    assert note["target"] == {"id": order_id, "type": "order", "url": f"/orders/{order_id}"}
    assert note["createdBy"]["name"] == "Analyst" and note["createdBy"]["key"] == sb.config.app_key
    assert c.get(f"{NOTES}/{note['id']}").json() == note
    second = c.post(NOTES, json=note_body(order_id, "second")).json()
    listed = c.get(NOTES, params={"target.id": order_id}).json()
    assert [n["id"] for n in listed["items"]] == [note["id"], second["id"]]  # oldest first
    assert listed["paging"] == {"page": 1, "perPage": 15, "total": 2, "pages": 1}
    assert c.get(NOTES, params={"target.id": "other-01"}).json()["items"] == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("target"),
        lambda b: b.pop("domain"),
        lambda b: b.pop("description"),
        lambda b: b["target"].pop("id"),
        lambda b: b.update(description=""),
    ],
)
def test_missing_fields_are_400(md, mutate):
    _, c = md
    body = note_body("1-01")
    mutate(body)
    r = c.post(NOTES, json=body)
    assert r.status_code == 400
    assert "message" in r.json()["error"]


def test_description_longer_than_2000_is_400(md):
    _, c = md
    assert c.post(NOTES, json=note_body("1-01", "x" * 2000)).status_code == 200
    r = c.post(NOTES, json=note_body("1-01", "x" * 2001))
    assert r.status_code == 400 and "2000" in r.json()["error"]["message"]


def test_at_most_30_notes_per_order(md):
    sb, c = md
    order_id = sb.store.orders[1].order_id
    for i in range(30):
        assert c.post(NOTES, json=note_body(order_id, f"note {i}")).status_code == 200
    r = c.post(NOTES, json=note_body(order_id, "one too many"))
    assert r.status_code == 400 and "30" in r.json()["error"]["message"]
    assert c.post(NOTES, json=note_body(sb.store.orders[2].order_id)).status_code == 200
    page2 = c.get(NOTES, params={"target.id": order_id, "perPage": 20, "page": 2}).json()
    assert page2["paging"] == {"page": 2, "perPage": 20, "total": 30, "pages": 2}
    assert [n["description"] for n in page2["items"]] == [f"note {i}" for i in range(20, 30)]


def test_list_needs_target_and_caps_per_page(md):
    _, c = md
    assert c.get(NOTES).status_code == 400
    assert c.get(NOTES, params={"target.id": "1-01", "perPage": 31}).status_code == 400


def test_notes_cannot_be_edited_or_deleted(md):
    _, c = md
    note = c.post(NOTES, json=note_body("1-01")).json()
    assert c.put(f"{NOTES}/{note['id']}", json=note_body("1-01", "edited")).status_code == 405
    assert c.delete(f"{NOTES}/{note['id']}").status_code == 405
    assert c.get(f"{NOTES}/NOPE").status_code == 404


def test_invalid_json_is_400(md):
    _, c = md
    r = c.post(NOTES, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("/orders/{id}", True),
        ("https://acme.myvtex.com/admin/orders/{id}", True),
        ("https://acme.vtexcommercestable.com.br/admin/checkout/#/orders/{id}", True),  # the spec's example
        ("/admin/orders/{id}", False),  # neither form: what refundkit sent before
        ("/orders/other-01", False),  # another order
        ("http://acme.myvtex.com/admin/orders/{id}", False),
        ("https://acme.myvtex.com/admin/orders/{id}9", False),
    ],
)
def test_the_target_url_is_one_of_the_two_forms_the_spec_allows(md, url: str, ok: bool) -> None:
    _, c = md
    body = note_body("1-01")
    body["target"]["url"] = url.format(id="1-01")
    r = c.post(NOTES, json=body)
    assert r.status_code == (200 if ok else 400)
    if not ok:
        assert "/orders/1-01" in r.json()["error"]["message"]


def test_seeded_notes_are_listed_at_once_and_keep_the_limit():
    """``Notes.seed`` (for benchmarks and tests that need many notes): no request, the list shows the note at once
    although it lags behind posts, in the shape a post gets, and the 30-note limit holds."""
    with served(small_config(notes_list_lag_s=30), clock=ManualClock()) as (sb, _srv, c):
        order_id = sb.store.orders[0].order_id
        seeded = sb.notes.seed(order_id, "Offline refund of BRL 1.00 recorded by refundkit [refundkit:rf-x]")
        assert sb.requests == []
        listed = c.get(NOTES, params={"target.id": order_id}).json()["items"]
        assert listed == [seeded]
        assert seeded["target"] == {"id": order_id, "type": "order", "url": f"/orders/{order_id}"}
        posted = c.post(NOTES, json=note_body(order_id)).json()
        assert set(posted) == set(seeded)
        for k in range(28):
            sb.notes.seed(order_id, f"note {k}")
        with pytest.raises(ValueError, match="30 notes"):
            sb.notes.seed(order_id, "one too many")
        with pytest.raises(ValueError, match="2000"):
            sb.notes.seed(sb.store.orders[1].order_id, "x" * 2001)
