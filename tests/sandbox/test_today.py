"""The demo store runs up to today: 13 months back from the clock's day, holding only what has happened by now.

The clock may be moved (``REFUNDKIT_SANDBOX_CLOCK_SHIFT_DAYS``, how the notebooks are tried at later dates): the
store, the sandbox's dates (its ``Date`` header, Master Data's and notes' stamps) and refundkit's own today move
together. Tests pin the store with ``SandboxConfig(today=...)``: their figures stay exact whatever the day.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

import refundkit
from refundkit.analytics import default_range
from refundkit.config import load_settings
from refundkit.errors import ConfigError
from refundkit.sandbox import Sandbox, SandboxConfig, Store
from refundkit.sandbox.flags import add_sandbox_flags, config_from_args
from refundkit.testing import DEMO_TODAY, run_cli, serve
from refundkit.timeutil import CLOCK_SHIFT_VARIABLE, Instant, clock_shift, utc_now

from .conftest import auth_headers

SMALLER = {"orders": 3000, "flash_sale_orders": 400}


def today() -> date:
    return utc_now().to_datetime().date()


def events(store: Store) -> list[tuple[str, Instant]]:
    """Every dated event of every order: placed, paid, invoiced, canceled, return invoice issued."""
    out = []
    for o in store.orders:
        out.append(("created", o.created))
        for name, at in (("authorized", o.authorized), ("invoiced", o.invoiced), ("canceled", o.canceled)):
            if at is not None:
                out.append((name, at))
        out += [("return invoice", inv.issued) for inv in o.input_invoices]
    return out


def test_the_demo_store_runs_from_a_year_before_this_month_up_to_now() -> None:
    store = Store(SandboxConfig(**SMALLER))
    now = utc_now()
    day = today()
    assert store.config.end == day.isoformat()
    assert store.config.start == date(day.year - 1, day.month, 1).isoformat()  # 13 months: 12 whole and this one
    assert not [(what, at) for what, at in events(store) if at > now], "the store holds events after now"
    this_month = [o for o in store.orders if o.created.to_datetime().date() >= day.replace(day=1)]
    assert this_month or day.day == 1, "nothing placed this month"
    last_month = day.replace(day=1) - timedelta(days=1)
    assert any(o.created.to_datetime().date().replace(day=1) == last_month.replace(day=1) for o in store.orders)
    # the same shapes as ever: both currencies, every status of the mix, whole, partial and double return invoices
    assert {o.currency for o in store.orders} == {"BRL", "USD"}
    assert {"invoiced", "canceled", "payment-pending", "handling", "window-to-cancel"} <= Counter(
        o.status for o in store.orders
    ).keys()
    refunded = [o for o in store.orders if o.input_invoices]
    assert any(o.refunded_cents == o.total_cents for o in refunded)
    assert any(o.refunded_cents < o.total_cents for o in refunded)
    assert any(len(o.input_invoices) == 2 for o in refunded)
    assert not any(o.input_invoices for o in store.orders if o.status != "invoiced")


def test_an_order_shows_the_status_it_has_by_now() -> None:
    """An order placed an hour ago is not invoiced 3 days from now: what is due later leaves its earlier status."""
    store = Store(SandboxConfig(**SMALLER))
    now = utc_now()
    for o in store.orders:
        if o.status == "invoiced":
            assert o.invoiced is not None and o.invoiced <= now and o.authorized is not None
        if o.status == "canceled":
            assert o.canceled is not None and o.canceled <= now
        if o.status == "payment-pending":
            assert o.authorized is None
    # the last days' orders are there, some of them still on their way to being invoiced
    recent = [o for o in store.orders if o.created > now - timedelta(days=3)]
    assert recent and any(o.status != "invoiced" for o in recent)


def test_a_store_pinned_to_a_day_is_the_same_whatever_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    pinned = Store(SandboxConfig(today=DEMO_TODAY, orders=1500, flash_sale_orders=100))
    assert (pinned.config.start, pinned.config.end) == ("2025-10-01", "2026-10-31")
    monkeypatch.setenv(CLOCK_SHIFT_VARIABLE, "400")
    assert Store(SandboxConfig(today=DEMO_TODAY, orders=1500, flash_sale_orders=100)).orders == pinned.orders
    # a pinned store keeps the return invoices of the month after its day, as the demo store always did
    assert max(at for _, at in events(pinned)).to_datetime().date() > date(2026, 10, 31)


def test_special_days_keep_their_place_in_the_year() -> None:
    store = Store(SandboxConfig(today="2027-12-03", orders=300, flash_sale_orders=100))
    assert (store.config.start, store.config.end) == ("2026-12-01", "2027-12-03")
    assert store.flash_sale_day == date(2027, 6, 15)  # the June flash sale, as in the pinned store
    assert store.midnight_instant.isoformat(0).startswith("2027-03-01T00:00:00")


def test_a_bad_today_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match="today must be a day such as 2026-10-31"):
        SandboxConfig(today="31/10/2026")


@pytest.mark.parametrize("days", [60, 400])
def test_a_shifted_clock_moves_the_store_the_sandbox_and_refundkit_together(
    days: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = today()
    monkeypatch.setenv(CLOCK_SHIFT_VARIABLE, str(days))
    assert clock_shift() == timedelta(days=days)
    assert today() == real + timedelta(days=days)
    config = SandboxConfig(**SMALLER)
    assert config.end == today().isoformat()
    with serve(config, cache_dir=tmp_path) as served:
        store = served.sb.store
        assert store.orders[-1].created.to_datetime().date() >= today() - timedelta(days=1)
        with httpx.Client(base_url=served.base_url, headers=auth_headers(served.sb), timeout=10) as c:
            answer = c.get("/api/oms/pvt/orders", params={"per_page": 1})
            assert answer.status_code == 200
            told = parsedate_to_datetime(answer.headers["Date"])
            assert abs(told.timestamp() - utc_now().ns / 1e9) < 600  # VTEX's clock is refundkit's, both moved
        # the embedded sandbox's default report range is the store's: it ends today, by the moved clock
        settings = load_settings(env={"REFUNDKIT_CACHE_DIR": str(tmp_path / "rk")}, env_file=False)
        with refundkit.connect(settings=settings, sandbox_options=SMALLER) as rk:
            start, end = default_range(rk)
            assert Instant(end.ns - 1).to_datetime().date() == today()
            assert start.to_datetime().date() == date(today().year - 1, today().month, 1)


def test_a_shifted_clock_is_refused_on_a_real_account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A sandbox that answers as VTEX would (no sandbox header) stands for a real account: recording there at a moved
    date would misdate real refunds."""
    with serve(
        SandboxConfig(orders=50, flash_sale_orders=0, today=DEMO_TODAY, announce=False), cache_dir=tmp_path
    ) as s:
        monkeypatch.setenv(CLOCK_SHIFT_VARIABLE, "60")
        with pytest.raises(ConfigError, match=f"{CLOCK_SHIFT_VARIABLE} is set.*unset it"):
            refundkit.connect(settings=s.settings())
        assert not [r for r in list(s.sb.requests) if r.method != "GET"], "something was written"


@pytest.mark.parametrize("raw", ["sixty", "1.5", "99999"])
def test_a_bad_clock_shift_says_what_to_fix(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLOCK_SHIFT_VARIABLE, raw)
    with pytest.raises(ConfigError, match=CLOCK_SHIFT_VARIABLE) as caught:
        utc_now()
    assert "\n" not in str(caught.value)


def test_the_sandbox_command_takes_the_day_the_store_runs_up_to(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_sandbox_flags(parser)
    pinned = config_from_args(parser.parse_args(["--today", DEMO_TODAY]), cache_dir=tmp_path)
    assert (pinned.start, pinned.end, pinned.follows_clock) == ("2025-10-01", "2026-10-31", False)
    current = config_from_args(parser.parse_args([]), cache_dir=tmp_path)
    assert (current.end, current.follows_clock) == (today().isoformat(), True)
    explicit = config_from_args(parser.parse_args(["--start", "2026-01-01", "--end", "2026-01-31"]), cache_dir=tmp_path)
    assert (explicit.start, explicit.end, explicit.follows_clock) == ("2026-01-01", "2026-01-31", False)


def test_a_bad_clock_shift_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    env = {"REFUNDKIT_CACHE_DIR": str(tmp_path / "cache"), CLOCK_SHIFT_VARIABLE: "two months"}
    result = run_cli(["sandbox", "--memory", "--port", "0"], env=env, cwd=tmp_path)  # stops before serving
    assert result.code != 0
    assert result.err.strip().splitlines() == [
        f"refundkit: {CLOCK_SHIFT_VARIABLE} must be a whole number of days, such as 60; got 'two months'"
    ]


@pytest.mark.parametrize("days", [0, 400])
def test_every_store_shaping_variant_builds_on_a_store_that_follows_the_clock(
    days: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CLOCK_SHIFT_VARIABLE, str(days))
    variants = {
        "other_refunds": True,
        "order_groups": 6,
        "foreign_payments": 3,
        "installment_interest": True,
        "rare_statuses": 1,
        "unknown_statuses": 2,
        "flash_sale_hours": 2.0,
        "value_after_return": "reduced",
    }
    sb = Sandbox(SandboxConfig(**SMALLER, **variants))
    store, now = sb.store, utc_now()
    assert store.config.end == today().isoformat()
    assert not [(what, at) for what, at in events(store) if at > now]
    assert store.adjustments and len(store.groups) >= 3
    assert sum(o.status == "awaiting-review" for o in store.orders) == 2
