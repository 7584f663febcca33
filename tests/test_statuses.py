"""The one status table (refundkit.statuses): every status VTEX documents has a place in gross, and a status nobody
documents is counted by the stated rule and named. The documented statuses are read from VTEX's own spec
(../shared/vtex-openapi/orders.json, not copied): FeedConfiguration's status filter and the order list's f_status."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from refundkit import statuses
from refundkit.sandbox import SandboxConfig
from refundkit.sandbox.store import RARE_STATUSES, Store
from refundkit.statuses import DOCUMENTED, LEFT_OUT_GROUPS, STATUSES, Place
from tests.conftest import SPECS, require_specs

#: Statuses VTEX's order-flow guide lists (help.vtex.com "Order flow and status", copied in ../shared/docs/
#: vtex-api.md) or the real-account review names, that the spec's lists lack.
GUIDE_ONLY = ("order-completed", "waiting-for-fulfillment", "window-to-change-payment", "ready-for-invoicing")
GUIDE_COPY = SPECS.parent / "docs" / "vtex-api.md"


def _documented_in_guide() -> set[str]:
    """The order-flow guide's statuses as ../shared/docs/vtex-api.md lists them (empty when that file is absent)."""
    if not GUIDE_COPY.is_file():
        return set()
    text = GUIDE_COPY.read_text(encoding="utf-8")
    section = text.split("### Order status values (API)", 1)[1].split("###", 1)[0]
    return set(re.findall(r"`([a-z]+(?:-[a-z]+)+|invoice|invoiced|canceled|cancel|handling)`", section))


def _documented_in_spec() -> set[str]:
    """Every status orders.json names: the feed's "Status available to filter" and the list's f_status."""
    require_specs("orders.json")  # skipped without the spec, failed under CI=true
    spec = json.loads((SPECS / "orders.json").read_text(encoding="utf-8"))
    feed = spec["paths"]["/api/orders/feed/config"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    text = feed["properties"]["filter"]["properties"]["status"]["description"]
    listed = text.split("Status available to filter", 1)[1]
    found = set(re.findall(r"^\s*-\s*([a-z-]+[a-z])\.?\s*$", listed, flags=re.M))
    (param,) = [p for p in spec["paths"]["/api/oms/pvt/orders"]["get"]["parameters"] if p["name"] == "f_status"]
    found |= set(re.findall(r"`([a-z-]+)`", param["description"]))
    return found


@pytest.mark.contract
def test_every_status_vtex_documents_has_a_place_in_gross() -> None:
    documented = _documented_in_spec()
    assert len(documented) >= 30, documented  # the feed's list was read, not an empty match
    for named in ("approve-payment", "waiting-for-order-authorization", "order-create-error", "order-creation-error"):
        assert named in documented
    assert "invoice-after-cancellation-deny" in documented
    missing = sorted(documented - DOCUMENTED)
    assert not missing, f"statuses VTEX documents without a place in refundkit.statuses: {missing}"
    assert set(GUIDE_ONLY) <= DOCUMENTED
    guide = _documented_in_guide()
    assert not sorted(guide - DOCUMENTED), f"statuses of the order-flow guide without a place: {guide - DOCUMENTED}"
    for status in documented | guide | set(GUIDE_ONLY):
        rule = STATUSES[status]
        assert rule.place is not Place.UNKNOWN and rule.why, status


def test_the_places_the_docs_decide() -> None:
    # denied after invoicing: a sale; creation errors and replaced orders: never a sale; before payment: pending
    assert statuses.place_of("invoice-after-cancellation-deny") is Place.COUNTED
    assert statuses.place_of("order-create-error") is Place.NEVER_A_SALE
    assert statuses.place_of("order-creation-error") is Place.NEVER_A_SALE
    assert statuses.place_of("approve-payment") is Place.PAYMENT_PENDING
    assert statuses.place_of("waiting-for-order-authorization") is Place.PAYMENT_PENDING
    assert statuses.place_of("canceled") is Place.CANCELED
    assert statuses.place_of("request-cancel") is Place.COUNTED  # asked for, not made
    # the options switch their places, and only theirs; never a sale stays out
    assert "canceled" in statuses.left_out() and "canceled" not in statuses.left_out(include_canceled=True)
    assert "approve-payment" not in statuses.left_out(include_payment_pending=True)
    assert "order-create-error" in statuses.left_out(include_canceled=True, include_payment_pending=True)
    # the sync checks one group per place gross leaves out, and together they are every left-out status
    assert sorted(s for g in LEFT_OUT_GROUPS for s in g) == sorted(statuses.left_out())


def test_a_status_nobody_documents_is_counted_named_with_its_count_and_takes_no_offline_refund() -> None:
    assert statuses.place_of("awaiting-review") is Place.UNKNOWN
    assert statuses.counts_in_gross("awaiting-review")
    assert "awaiting-review" not in statuses.left_out()
    line = statuses.unknown_statuses_line({"awaiting-review": 364, "invoiced": 10, "": 2}, "listed")
    assert line is not None
    assert "366 order(s) listed" in line and "'awaiting-review': 364" in line and "(no status): 2" in line
    assert "counted in gross" in line and "invoiced" not in line
    assert statuses.unknown_statuses_line({"invoiced": 3}) is None
    why = statuses.refund_refusal("awaiting-review")
    assert why is not None and "'awaiting-review' is not one refundkit knows" in why
    assert statuses.refund_refusal("invoiced") is None
    assert "never a sale" in (statuses.refund_refusal("order-create-error") or "")
    # an escape sequence in a status is shown inert
    shown = statuses.unknown_statuses_line({"\x1b[31mred": 1})
    assert shown is not None and "\x1b" not in shown


def test_the_readme_table_gives_every_status_its_place_and_states_the_rule() -> None:
    table = statuses.table_markdown()
    for status, rule in STATUSES.items():
        assert f"| `{status}` | {rule.place.words} |" in table
    assert table.splitlines()[-1].startswith("| any other status | counted in gross")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert table in readme, "the README's status table is not the one refundkit.statuses holds: paste table_markdown()"


def test_the_sandbox_plays_the_rarer_statuses_and_an_undocumented_one_without_changing_the_demo_store() -> None:
    small = {"orders": 1500, "flash_sale_orders": 0, "start": "2026-02-01", "end": "2026-04-30"}
    plain = Store(SandboxConfig(**small))
    varied = Store(SandboxConfig(**small, rare_statuses=2, unknown_statuses=7, unknown_status="in-limbo"))
    seen = [o.status for o in varied.orders]
    assert all(seen.count(s) == 2 for s in RARE_STATUSES)
    assert seen.count("in-limbo") == 7
    assert RARE_STATUSES | {o.status for o in plain.orders} == DOCUMENTED
    # the same orders, times and amounts: only statuses changed
    assert [(o.order_id, o.created, o.total_cents) for o in plain.orders] == [
        (o.order_id, o.created, o.total_cents) for o in varied.orders
    ]
    changed = [(a, b) for a, b in zip(plain.orders, varied.orders, strict=True) if a.status != b.status]
    assert len(changed) == 2 * len(RARE_STATUSES) + 7
    from_invoiced = ("in-limbo", "invoice-after-cancellation-deny")
    assert all(a.status == "invoiced" for a, b in changed if b.status in from_invoiced)
    # the default store is as the seed made it
    assert Store(SandboxConfig(**small)).orders == plain.orders


def test_the_sandbox_flags_set_the_status_variants() -> None:
    import argparse

    from refundkit.sandbox.flags import add_sandbox_flags, config_from_args

    p = argparse.ArgumentParser()
    add_sandbox_flags(p)
    cfg = config_from_args(
        p.parse_args(["--memory", "--rare-statuses", "3", "--unknown-statuses", "5", "--unknown-status", "on-hold"]),
        cache_dir=SPECS,
    )
    assert (cfg.rare_statuses, cfg.unknown_statuses, cfg.unknown_status) == (3, 5, "on-hold")
    default = config_from_args(p.parse_args(["--memory"]), cache_dir=SPECS)
    assert (default.rare_statuses, default.unknown_statuses) == (0, 0)
    with pytest.raises(SystemExit):
        p.parse_args(["--unknown-status", "On Hold"])
