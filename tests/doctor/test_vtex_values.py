"""`refundkit doctor` on how VTEX states an order's value after a return invoice and the gateway's dates, under each
answer the sandbox plays; and the value verdict saved and followed by balances and reports (sandbox on loopback).
Expected figures are computed here from the sandbox's own order summaries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import refundkit
from refundkit.analytics import gross_vs_net_report
from refundkit.config import load_settings
from refundkit.doctor import Status
from refundkit.doctor.vtexvalues import value_after_return
from refundkit.ledger.valueverdict import load_value_verdict
from refundkit.sandbox import Sandbox
from refundkit.sandbox.variables import sandbox_variables
from refundkit.timeutil import Instant, parse_instant, utc_now

from .test_doctor import Run, _rewrite, doctor  # noqa: F401 - the fixture, shared with the doctor's own tests

SMALL = {"orders": 300, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30"}


@pytest.mark.parametrize("pii", [False, True], ids=["classic", "pii-architecture"])
@pytest.mark.parametrize("reading", ["kept", "reduced"])
def test_doctor_finds_how_the_value_reads_after_a_return_and_saves_it(
    doctor: Callable[..., Run],  # noqa: F811 - the fixture imported above
    reading: str,
    pii: bool,
) -> None:
    run = doctor(value_after_return=reading, **({"pii_architecture": True, "pii_setting": "on"} if pii else {}))
    status, result, _ = run.row("value-after-return")
    assert status is Status.PASS, result
    assert run.report.get("value-after-return").figures["reading"] == reading
    saved = load_value_verdict(run.cache, run.sb.config.account)
    assert saved is not None and saved.reading == reading
    order = run.sb.store.order(saved.order_id)
    assert order is not None and order.input_invoices and saved.returned_minor == order.refunded_cents


@pytest.mark.parametrize(("offset", "status"), [(0, Status.PASS), (-3, Status.WARN)])
def test_doctor_checks_the_zone_of_the_gateways_dates(
    doctor: Callable[..., Run],  # noqa: F811 - the fixture imported above
    offset: int,
    status: Status,
) -> None:
    run = doctor(gateway_dates_offset_h=offset)
    got, result, _ = run.row("gateway-dates")
    assert got is status, result
    assert "UTC" in result
    if offset:
        assert "-3 h" in result


def _session(sb: Sandbox, base_url: str, cache: Path) -> refundkit.Session:
    cfg = sb.config
    env = {
        **sandbox_variables(base_url, cfg),
        "REFUNDKIT_CACHE_DIR": str(cache),
        "REFUNDKIT_USER": "tester",
    }
    return refundkit.connect(settings=load_settings(env=env, env_file=False))


def _expected(sb: Sandbox, start: Instant, end: Instant) -> dict[str, tuple[int, int, int]]:
    """(gross, VTEX refunds, net) per currency over [start, end), refund-date view, no offline refunds."""
    out: dict[str, tuple[int, int, int]] = {}
    for o in sb.store.orders:
        if o.status in ("canceled", "payment-pending"):
            continue
        gross, native, _ = out.get(o.currency, (0, 0, 0))
        if start.ns <= o.created.ns < end.ns:
            gross += o.total_cents  # what was charged, whatever VTEX's value now says
        native += sum(inv.value for inv in o.input_invoices if start.ns <= inv.issued.ns < end.ns)
        out[o.currency] = (gross, native, gross - native)
    return out


@pytest.mark.parametrize("reading", ["kept", "reduced"])
def test_reports_and_balances_count_each_return_once_under_either_reading(
    sandbox_factory: Any, tmp_path: Path, reading: str
) -> None:
    served = sandbox_factory(value_after_return=reading, **SMALL)
    sb = served.sb
    with _session(sb, served.srv.base_url, tmp_path / "cache") as first:
        _check_reading(sb, served.srv.base_url, tmp_path, first, reading)


def _check_reading(sb: Sandbox, base_url: str, tmp_path: Path, session: refundkit.Session, reading: str) -> None:
    returned = next(o for o in sb.store.orders if o.status == "invoiced" and o.input_invoices)
    # before any verdict: value is read as kept; under "reduced" a return is then subtracted twice (said so)
    before = session.ledger.quote(returned.order_id)
    doubled = returned.refunded_cents if reading == "reduced" else 0
    assert before.refundable.minor == returned.total_cents - returned.refunded_cents - doubled
    # doctor finds out and saves the verdict; a new session follows it
    check = value_after_return(session.client, session.settings.cache_dir, utc_now)
    assert check.status is Status.PASS and check.figures["reading"] == reading
    with _session(sb, base_url, tmp_path / "cache") as again:
        _check_followed(sb, again, returned.order_id, reading)


def _check_followed(sb: Sandbox, session: refundkit.Session, order_id: str, reading: str) -> None:
    returned = sb.store.order(order_id)
    assert returned is not None
    q = session.ledger.quote(returned.order_id)
    assert q.order_total.minor == returned.total_cents
    assert q.refundable.minor == returned.total_cents - returned.refunded_cents
    assert (reading == "reduced") == any("already excludes the return invoices" in n for n in q.notices)
    rep = gross_vs_net_report(session, SMALL["start"], SMALL["end"], by="month", progress=False)
    assert rep.parameters["value_reading"] == reading
    start, end = parse_instant(SMALL["start"] + "T00:00:00Z"), parse_instant("2026-05-01T00:00:00Z")
    for currency, (gross, native, net) in _expected(sb, start, end).items():
        rows = rep.rows.filter(rep.rows["currency"] == currency)
        got = tuple(int(rows[c].sum()) for c in ("gross_minor", "native_refunds_minor", "net_minor"))
        assert got == (gross, native, net), currency


@pytest.mark.parametrize("variant", ["full", "no-definition", "before-promotions"])
def test_doctor_says_which_item_fields_tell_the_price_paid(
    doctor: Callable[..., Run],  # noqa: F811 - the fixture imported above
    variant: str,
) -> None:
    run = doctor(item_prices=variant)
    status, result, _ = run.row("item-prices")
    assert status is Status.PASS, result
    figures = run.report.get("item-prices").figures
    assert set(figures) <= {"fields", "priceTags"} and sum(figures.values()) >= 1
    assert "a refund by item defaults to that price" in result


def _items_disagree(body: Any) -> None:
    """Items whose fields add up to less than the order's Items + Discounts, and no discount tags that explain it."""
    for it in body.get("items") or []:
        it.pop("priceDefinition", None)
        it["priceTags"] = []
        it["sellingPrice"] = max(0, it["sellingPrice"] - 1)


def test_doctor_warns_when_no_item_field_adds_up_to_the_order_totals(
    doctor: Callable[..., Run],  # noqa: F811 - the fixture imported above
) -> None:
    run = doctor(before=lambda sb: _rewrite_orders(sb, _items_disagree))
    status, result, action = run.row("item-prices")
    assert status is Status.WARN, result
    assert "no item field adds up" in result and "in proportion" in result and "--amount" in action


def _rewrite_orders(sb: Sandbox, change: Callable[[Any], None]) -> None:
    """Every order the sandbox answers, changed by ``change``."""
    _rewrite(sb, "GET", "/api/oms/pvt/orders/1-01", change)
