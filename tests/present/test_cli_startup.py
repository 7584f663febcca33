"""What `refundkit` loads to start a command: only the command's own module, so that a report from the local store
starts without the HTTP client, the sandbox, charts or widgets (their imports are most of a short command's time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from refundkit.analytics.store import STORE_ORDERS_SCHEMA, OrderStore
from refundkit.present.cli import COMMANDS, build_parser

ACCOUNT = "startupstore"
#: modules a report from the store has no use for (HTTP, the sandbox, VTEX's client, charts, widgets, notebooks)
HEAVY = ("httpx", "plotly", "ipywidgets", "IPython", "refundkit.sandbox", "refundkit.vtex.client", "refundkit.session")
#: nor the analytics it does not use (the package's names load on first use), the ledger's recording, the parsing of
#: VTEX's answers (the store holds them parsed), the .env parser
UNUSED = (
    "refundkit.vtex.models",
    "refundkit.analytics.accounts",
    "refundkit.analytics.trends",
    "refundkit.analytics.views",
    "refundkit.ledger.recording",
    "dotenv",
    "tqdm",
)

PROBE = r"""
import json, sys
from refundkit.present.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _store(cache: Path) -> None:
    """Three orders and their month, as a sync writes them."""
    known = pl.DataFrame(
        {
            "order_id": ["1000000000001-01", "1000000000002-01", "1000000000003-01"],
            "created_at": pl.Series([1_772_400_000, 1_772_500_000, 1_772_600_000]).cast(pl.Int64) * 10**9,
            "status": ["invoiced", "invoiced", "canceled"],
            "currency": "BRL",
            "total_minor": [1000, 2550, 990],
            "read_at": 1_773_000_000 * 10**9,
            "has_details": False,
        }
    )
    rows = known.with_columns(
        pl.lit(None).cast(t).alias(c) for c, t in STORE_ORDERS_SCHEMA.items() if c not in known.columns
    )
    st = OrderStore(cache / "store", ACCOUNT)
    st.write_month("orders", "2026-03", rows.select(pl.col(c).cast(t) for c, t in STORE_ORDERS_SCHEMA.items()))
    state = st.state()
    state.add(1_772_323_200 * 10**9, 1_775_001_600 * 10**9)
    state.synced_at = 1_775_001_600 * 10**9
    st.save_state(state)


def test_a_report_from_the_store_loads_no_http_client_sandbox_or_widgets(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _store(cache)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VTEX_", "REFUNDKIT_"))}
    env.update(REFUNDKIT_CACHE_DIR=str(cache), VTEX_ACCOUNT_NAME=ACCOUNT)
    args = ["report", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "month", "--no-sync", "-o", "out.csv"]
    p = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout.splitlines()[-1])
    assert result["code"] == 0, p.stderr
    assert (tmp_path / "out.csv").read_text().splitlines()[1] == (
        "2026-03-01,BRL,2,35.50,0.00,0.00,35.50,0.00,0.00,0.00,0.00,0.00,0.00,35.50,2,0.00,0.00,0.00"
    )
    loaded = [m for m in result["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY + UNUSED)]
    assert loaded == []


def test_each_command_is_registered_by_the_module_listed_for_it() -> None:
    everything = [name for _, names in COMMANDS for name in names]
    assert len(everything) == len(set(everything))
    for names in (names for _, names in COMMANDS):
        for name in names:
            sub = build_parser(name)._subparsers
            assert sub is not None
            choices = sub._group_actions[0].choices
            assert choices is not None and list(choices) == list(names), name
    full = build_parser()._subparsers
    assert full is not None and list(full._group_actions[0].choices or ()) == everything
    unknown = build_parser("no-such-command")._subparsers
    assert unknown is not None and list(unknown._group_actions[0].choices or ()) == everything
