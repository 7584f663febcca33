"""An account on VTEX's PII data architecture: the PII Orders API answers, masked; the classic one refuses."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

import refundkit
from refundkit.config import load_settings
from refundkit.sandbox.config import PII_CLASSIC_STATUSES
from refundkit.sandbox.flags import add_sandbox_flags, config_from_args
from refundkit.testing import SMALL_STORE, check_nothing_moved

from .conftest import served, small_config

SEARCH = "/api/orders/extendsearch/orders"
DOCUMENT = "/api/orders/pvt/document"
CLASSIC = "/api/oms/pvt/orders"
BODY = {
    "f_creationDate": "creationDate:[2026-03-01T00:00:00.000Z TO 2026-03-10T00:00:00.000Z]",
    "orderBy": "creationDate,asc",
    "page": 2,
    "per_page": 100,
    "incompleteOrders": False,
}


def test_the_pii_list_answers_as_the_classic_list_with_the_customer_masked() -> None:
    with served(small_config(pii_architecture=True)) as (sb, _srv, c):
        sb.config.pii_architecture = False  # the same store read the classic way, for comparison
        query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in BODY.items()}
        classic = c.get(CLASSIC, params=query).json()
        sb.config.pii_architecture = True
        r = c.post(SEARCH, json=BODY)
        assert r.status_code == 200
        pii = r.json()
        assert pii["paging"] == classic["paging"] and pii["stats"] == classic["stats"]
        assert [row["orderId"] for row in pii["list"]] == [row["orderId"] for row in classic["list"]]
        for p, k in zip(pii["list"], classic["list"], strict=True):
            assert p["totalValue"] == k["totalValue"] and p["status"] == k["status"]
            assert p["invoicesInput"] == k["invoiceInput"] and "invoiceInput" not in p  # the PII spec's name
            assert p["clientName"] != k["clientName"] and set(p["clientName"][1:]) == {"*"}
            assert set(p["clientEmail"][1:]) == {"*"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"page": "2"}, "page must be an integer"),
        ({"per_page": True}, "per_page must be an integer"),
        ({"incompleteOrders": "false"}, "incompleteOrders must be a boolean"),
        ({"f_status": ["invoiced"]}, "f_status must be a string"),
        ({"_where": "x"}, "unknown filter"),
    ],
)
def test_a_pii_list_body_of_another_shape_is_refused(change: dict, problem: str) -> None:
    with served(small_config(pii_architecture=True)) as (_sb, _srv, c):
        r = c.post(SEARCH, json={**BODY, **change})
        assert r.status_code == 400 and problem in r.json()["error"]["message"]
        assert c.post(SEARCH, content=b"[]").status_code == 400


def test_the_pii_order_is_the_classic_order_with_the_customer_masked() -> None:
    with served(small_config(pii_architecture=True)) as (sb, _srv, c):
        oid = sb.store.orders[3].order_id
        pii = c.get(f"{DOCUMENT}/{oid}").json()
        sb.config.pii_architecture = False
        classic = c.get(f"{CLASSIC}/{oid}").json()
        assert pii["piiHidden"] is True
        assert pii["value"] == classic["value"] and pii["packageAttachment"] == classic["packageAttachment"]
        assert pii["clientProfileData"]["email"] != classic["clientProfileData"]["email"]
        assert set(pii["clientProfileData"]["email"][1:]) == {"*"}
        sb.config.pii_architecture = True
        assert c.get(f"{DOCUMENT}/0000000000000-00").status_code == 404


@pytest.mark.parametrize("status", PII_CLASSIC_STATUSES)
def test_the_classic_order_endpoints_refuse_as_configured(status: int) -> None:
    with served(small_config(pii_architecture=True, pii_classic_status=status)) as (sb, _srv, c):
        oid = sb.store.orders[0].order_id
        for path, pii_path in ((CLASSIC, SEARCH), (f"{CLASSIC}/{oid}", f"{DOCUMENT}/{oid}")):
            r = c.get(path, params={"page": "1"})
            assert r.status_code == status
            if status == 302:
                assert r.headers["Location"].endswith(pii_path)


def test_a_classic_account_does_not_serve_the_pii_orders_api() -> None:
    with served(small_config()) as (sb, _srv, c):
        assert c.post(SEARCH, json=BODY).status_code == 404
        assert c.get(f"{DOCUMENT}/{sb.store.orders[0].order_id}").status_code == 404
        assert c.get(CLASSIC).status_code == 200


def test_the_flags_play_it(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_sandbox_flags(parser)
    cfg = config_from_args(parser.parse_args(["--pii-architecture", "--pii-classic-status", "404"]), cache_dir=tmp_path)
    assert cfg.pii_architecture and cfg.pii_classic_status == 404
    cfg = config_from_args(parser.parse_args([]), cache_dir=tmp_path)
    assert not cfg.pii_architecture and cfg.pii_classic_status == 403
    with pytest.raises(SystemExit):
        parser.parse_args(["--pii-classic-status", "500"])


def test_refundkit_sandbox_prints_the_setting_that_reads_it(monkeypatch) -> None:
    from refundkit.sandbox import server as server_module

    out = io.StringIO()

    def stop() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(server_module, "_wait_forever", stop)
    server_module.run_forever(small_config(pii_architecture=True), port=0, out=out)
    assert "export REFUNDKIT_PII_ARCHITECTURE=on" in out.getvalue().splitlines()
    out = io.StringIO()
    server_module.run_forever(small_config(), port=0, out=out)
    assert "REFUNDKIT_PII_ARCHITECTURE" not in out.getvalue()


def test_an_embedded_sandbox_playing_it_is_read_as_one(tmp_path: Path) -> None:
    settings = load_settings(env={"REFUNDKIT_CACHE_DIR": str(tmp_path), "REFUNDKIT_USER": "tester"}, env_file=False)
    with refundkit.connect(settings=settings, sandbox_options={**SMALL_STORE, "pii_architecture": True}) as session:
        assert session.settings.pii_architecture
        sb = session.sandbox
        assert sb is not None
        oid = sb.store.orders[0].order_id
        assert session.client.orders.get(oid).order_id == oid
        assert not [r for r in list(sb.requests) if r.path.startswith(CLASSIC)]
        check_nothing_moved(sb)


def test_notes_list_who_wrote_them_masked_unless_a_reason_is_given() -> None:
    with served(small_config(pii_architecture=True)) as (sb, _srv, c):
        oid = sb.store.orders[0].order_id
        body = {
            "target": {"id": oid, "type": "order", "url": f"/orders/{oid}"},
            "domain": "oms",
            "description": "refund [marker-1]",
            "createdBy": {"id": "u1", "name": "Analyst", "email": "analyst@example.com"},
        }
        assert c.post("/api/do/notes", json=body).status_code == 200
        (masked,) = c.get("/api/do/notes", params={"target.id": oid}).json()["items"]
        assert masked["createdBy"]["name"] == "A******" and masked["description"] == "refund [marker-1]"
        (plain,) = c.get("/api/do/notes", params={"target.id": oid, "reason": "audit"}).json()["items"]
        assert plain["createdBy"]["name"] == "Analyst"
