"""Units of one item recorded by several processes at once, under every answer Master Data may give to a
conditional write (the combinations of tests/ledger/test_exactly_once_variants.py).

Each recorder is a process of its own (``python -c``, refundkit's ``Ledger.record`` by item, as the command line and
the desk call it); a barrier in the sandbox makes them all read the same version of the order's ledger before any
writes, so the race is certain, never timed. Where exactly-once can hold, exactly the units bought are recorded and
the others are refused naming the SKU and what is left; where it cannot, every recorder is refused and nothing is
written to the ledger.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from refundkit.config import load_settings
from refundkit.ledger import Ledger
from refundkit.sandbox import FaultRule, Sandbox, SandboxServer
from refundkit.sandbox.orderdetail import item_shape
from refundkit.sandbox.store import OrderSummary
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import check_nothing_moved
from refundkit.vtex import VtexClient
from refundkit.vtex.transport import RetryPolicy

from .helpers import notes_of, small_config, stored_doc
from .test_exactly_once_variants import COMBINATIONS, HEAD, HEAD_DOCS, exactly_once_holds

ROOT = Path(__file__).resolve().parents[2]

#: One recorder: records one unit of SKU argv[2] on order argv[1] under reference argv[3]; prints what happened.
RECORDER = """
import json, sys
from refundkit.config import load_settings
from refundkit.ledger import Ledger, RefundRefused
from refundkit.vtex import VtexClient
from refundkit.vtex.transport import RetryPolicy
order_id, sku, ref = sys.argv[1:4]
client = VtexClient(load_settings(), retry=RetryPolicy.fast())
try:
    r = Ledger(client, journal_dir=False, sleep=lambda _s: None).record(order_id, None, "cash", ref, items=[sku + ":1"])
    print(json.dumps({"outcome": r.outcome.value, "amount": r.entry.amount.minor}))
except RefundRefused as exc:
    print(json.dumps({"refused": exc.problems, "exactly_once": type(exc).__name__ == "ExactlyOnceUnavailable"}))
finally:
    client.close()
"""

_used: set[str] = set()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, SandboxServer]]:
    sb = Sandbox(small_config(orders=600))
    with sb.serve(port=0) as srv:
        yield sb, srv
    check_nothing_moved(sb)


@pytest.fixture
def account(served: tuple[Sandbox, SandboxServer], tmp_path: Path) -> Iterator[Callable[..., dict[str, str]]]:
    sb, srv = served

    def configure(status: int, missing: str, honoured: bool) -> dict[str, str]:
        sb.config.md_failed_condition_status = status
        sb.config.md_missing_document = missing  # type: ignore[assignment]  # one of the Literal's values
        sb.config.md_conditions_honoured = honoured
        env = {
            **sandbox_variables(srv.base_url, sb.config),
            "REFUNDKIT_CACHE_DIR": str(tmp_path / "cache"),
            "REFUNDKIT_USER": "clerk",
        }
        client = VtexClient(load_settings(env=env, env_file=False), retry=RetryPolicy.fast())
        try:  # the schemas, and this combination probed once: its verdict kept in the cache dir the recorders share
            Ledger(client, journal_dir=False).setup()
        finally:
            client.close()
        return env

    yield configure
    sb.faults.clear()
    sb.config.md_failed_condition_status, sb.config.md_missing_document = 304, "created"
    sb.config.md_conditions_honoured = True


def _two_units(sb: Sandbox) -> OrderSummary:
    for o in sb.store.orders:
        if (
            o.order_id not in _used
            and o.status == "invoiced"
            and o.currency == "BRL"
            and not o.input_invoices
            and o.items[0].quantity == 2
            and len({i.sku for i in o.items}) == len(o.items)
            and len(item_shape(o).lines) == len(o.items)
        ):
            _used.add(o.order_id)
            return o
    raise LookupError("no order with two units of its first SKU left")


def _race(env: dict[str, str], n: int, order_id: str, sku: str) -> list[dict[str, Any]]:
    """``n`` recorder processes at once; what each printed."""
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RECORDER, order_id, sku, f"UNIT-{i}"],
            env=full,
            cwd=str(ROOT),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0 and "Traceback" not in stderr, stderr
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


@pytest.mark.parametrize(("status", "missing", "honoured"), COMBINATIONS)
def test_three_processes_recording_one_unit_each_of_an_item_bought_twice_record_two(
    served: tuple[Sandbox, SandboxServer],
    account: Callable[..., dict[str, str]],
    status: int,
    missing: str,
    honoured: bool,
) -> None:
    sb, _srv = served
    env = account(status, missing, honoured)
    o = _two_units(sb)
    sku = o.items[0].sku
    sb.faults.add(
        FaultRule(method="GET", path=HEAD_DOCS, status=None, after_write=True, times=3, barrier=threading.Barrier(3))
    )
    results = _race(env, 3, o.order_id, sku)
    if not exactly_once_holds(missing, honoured):
        assert all(r.get("exactly_once") for r in results), results
        assert stored_doc(sb, HEAD, f"order-{o.order_id}") is None and notes_of(sb, o.order_id) == []
        return
    recorded = [r for r in results if r.get("outcome") == "recorded"]
    refused = [r for r in results if "refused" in r]
    assert len(recorded) == 2 and len(refused) == 1, results
    (problem,) = refused[0]["refused"]
    assert f"SKU {sku}" in problem and "0 units left to refund (bought 2, 2 refunded offline)" in problem
    assert sum(r["amount"] for r in recorded) == o.items[0].selling_price * 2
    head = stored_doc(sb, HEAD, f"order-{o.order_id}")
    assert head is not None
    units = [line["quantity"] for e in head["entries"] for line in e["lines"] or []]
    assert units == [1, 1]
    assert len(notes_of(sb, o.order_id)) == 2
