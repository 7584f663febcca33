"""One store that many processes share: concurrent syncs and reports never crash and never lose data; a clock
running ahead never claims what VTEX has not listed; a damaged store, a full disk or a folder that cannot be written
give one line."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import refundkit
from refundkit.analytics import OrderStore, gross_vs_net_report, sync_orders
from refundkit.testing import ServedSandbox, small_config
from refundkit.timeutil import Instant, parse_instant, utc_now

STORE = {"orders": 400, "flash_sale_orders": 0, "start": "2026-02-20", "end": "2026-04-30", "seed": 11}
MARCH = (parse_instant("2026-03-01T00:00:00Z"), parse_instant("2026-04-01T00:00:00Z"))
WEEKS = ["2026-03-01", "2026-03-09", "2026-03-16", "2026-03-24", "2026-04-01"]

# A worker process: it connects once, then for each command read from stdin (one JSON line) syncs a range into a
# store, or reads reports from a store while others sync, and answers one line: "ok" or "error <what>".
WORKER = textwrap.dedent(
    """
    import json, sys
    import refundkit
    from refundkit.analytics import OrderStore, gross_vs_net_report, sync_orders
    from refundkit.config import load_settings
    from refundkit.timeutil import parse_instant

    env = json.loads(sys.argv[1])
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["do"] == "sync":
                s = refundkit.connect(settings=load_settings(env={**env, "REFUNDKIT_CACHE_DIR": cmd["cache"]},
                                                             env_file=False), setup=False)
                try:
                    sync_orders(s, parse_instant(cmd["from"]), parse_instant(cmd["to"]), progress=False)
                finally:
                    s.close()
            else:
                store = OrderStore(cmd["cache"] + "/store", env["VTEX_ACCOUNT_NAME"])
                for _ in range(4):
                    gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="day", sync=False)
            print("ok", flush=True)
        except BaseException as exc:
            print("error", type(exc).__name__, " ".join(str(exc).split())[:300], flush=True)
    """
)


@pytest.fixture
def served(sandbox_factory) -> ServedSandbox:
    return sandbox_factory(small_config(**STORE))


def store_report(store: OrderStore) -> list[dict]:
    return gross_vs_net_report(store, "2026-03-01", "2026-03-31", by="day", sync=False).display_rows()


def contents(store: OrderStore) -> tuple[list[tuple], list[tuple]]:
    orders = store.orders(*MARCH).sort("order_id").select("order_id", "status", "total_minor", "invoice_input")
    returns = store.return_invoices(orders["order_id"].to_list()).sort("order_id", "invoice_number")
    return orders.rows(), returns.select("order_id", "invoice_number", "amount_minor").rows()


@pytest.fixture
def workers(served: ServedSandbox) -> Iterator[list[subprocess.Popen[str]]]:
    env = {k: v for k, v in served.env().items() if k != "REFUNDKIT_CACHE_DIR"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(env)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        yield procs
    finally:
        for p in procs:
            assert p.stdin is not None
            p.stdin.close()
        for p in procs:
            p.wait(timeout=60)
            assert p.stdout is not None
            p.stdout.close()


def test_concurrent_syncs_and_reports_lose_nothing(
    served: ServedSandbox, workers: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    """Four processes at once into one store, round after round: adjacent weeks of one month, the whole month over
    them, and reports read meanwhile. Each round's store must hold what a fresh store synced alone holds, and give
    the same report, with the state claiming the whole month."""
    fresh = refundkit.connect(settings=served.settings(REFUNDKIT_CACHE_DIR=str(tmp_path / "fresh")), setup=False)
    sync_orders(fresh, *MARCH, progress=False)
    fresh_store = OrderStore.for_settings(fresh.settings)
    want_report, want = store_report(fresh_store), contents(fresh_store)
    fresh.close()
    assert want[1], "the month should hold return invoices"

    weeks = [{"do": "sync", "from": f"{a}T00:00:00Z", "to": f"{b}T00:00:00Z"} for a, b in itertools.pairwise(WEEKS)]
    month = {"do": "sync", "from": f"{WEEKS[0]}T00:00:00Z", "to": f"{WEEKS[-1]}T00:00:00Z"}
    plans = [weeks, [weeks[0], weeks[1], month, {"do": "report"}], [month, weeks[2], weeks[3], month]]
    problems = []
    for r in range(9):
        cache = str(tmp_path / f"round{r}")
        for p, cmd in zip(workers, plans[r % len(plans)], strict=True):
            assert p.stdin is not None
            p.stdin.write(json.dumps({**cmd, "cache": cache}) + "\n")
            p.stdin.flush()
        answers = [p.stdout.readline().strip() for p in workers if p.stdout is not None]
        problems += [f"round {r}: {a}" for a in answers if a != "ok"]
        if r % len(plans) == 1:
            # the report's process ran alone on one week: sync the rest as a scheduled sync would, one at a time
            store = OrderStore(Path(cache) / "store", served.sb.config.account)
            for cmd in (weeks[2], weeks[3]):
                s = refundkit.connect(settings=served.settings(REFUNDKIT_CACHE_DIR=cache), setup=False)
                sync_orders(s, parse_instant(cmd["from"]), parse_instant(cmd["to"]), progress=False)
                s.close()
        store = OrderStore(Path(cache) / "store", served.sb.config.account)
        if store.state().gaps(MARCH[0].ns, MARCH[1].ns):
            problems.append(f"round {r}: the state does not claim the whole month")
        got = contents(store)
        if got != want:
            problems.append(
                f"round {r}: {len(got[0])} orders and {len(got[1])} return invoices, not {len(want[0])} and "
                f"{len(want[1])}"
            )
        elif store_report(store) != want_report:
            problems.append(f"round {r}: the report differs from a fresh store's")
    assert not problems, "\n".join(problems)


# -- VTEX's clock, not ours --------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["our clock ahead", "VTEX's clock behind", "no Date header"])
def test_a_clock_running_ahead_never_claims_what_vtex_has_not_listed(
    sandbox_factory, tmp_path: Path, variant: str
) -> None:
    """This computer's clock one day ahead of VTEX's (or VTEX's a day behind, or no Date header to tell): an order
    VTEX creates after the first sync, at a time that clock had already passed, is still listed by the next."""
    day = timedelta(days=1)
    served = sandbox_factory(
        small_config(
            **STORE,
            clock_offset_s=-day.total_seconds() if variant == "VTEX's clock behind" else 0.0,
            date_header=variant != "no Date header",
        )
    )
    vtex_now = utc_now() - (day if variant == "VTEX's clock behind" else timedelta(0))
    ahead = None if variant == "VTEX's clock behind" else utc_now() + day  # None: this computer's own clock
    s = refundkit.connect(settings=served.settings(REFUNDKIT_CACHE_DIR=str(tmp_path / "cache")), setup=False)
    start, end = parse_instant("2026-04-01T00:00:00Z"), utc_now() + 2 * day
    first = sync_orders(s, start, end, now=ahead, progress=False)
    if variant != "no Date header":
        assert any("clock is 24.0 hours ahead of VTEX's" in w for w in first.warnings), first.warnings
    like = served.sb.store.orders[-1].order_id
    new = served.sb.store.add_order(like, vtex_now - timedelta(minutes=1))
    second = sync_orders(s, start, end, now=None if ahead is None else ahead + timedelta(hours=1), progress=False)
    store = OrderStore.for_settings(s.settings)
    s.close()
    assert store.orders(order_ids=[new.order_id]).height == 1, "the order VTEX created later was never listed"
    assert second.listed >= 1
    covered = store.state().coverage[-1][1]
    assert covered <= vtex_now.ns, f"the state claims {Instant(covered).isoformat(0)}, past VTEX's clock"


# -- a damaged store ---------------------------------------------------------------------------------------------
def cli(served: ServedSandbox, cwd: Path, *args: str, **env: str):
    from refundkit.testing import run_cli

    return run_cli(list(args), served.env(**env), cwd)


MARCH_ARGS = ("--from", "2026-03-01", "--to", "2026-03-31")


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("refundkit: warning:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "bit-flipped":
        at = len(data) // 3  # inside a data page: Parquet readers read it without noticing
        path.write_bytes(data[:at] + bytes([data[at] ^ 0x04]) + data[at + 1 :])
    else:
        path.write_text('["a state", "of the wrong shape"]')


@pytest.mark.parametrize("how", ["truncated", "empty", "bit-flipped", "state of the wrong shape"])
def test_a_damaged_store_says_so_in_one_line_and_the_next_sync_mends_it(
    served: ServedSandbox, tmp_path: Path, how: str
) -> None:
    assert cli(served, tmp_path, "sync", *MARCH_ARGS).returncode == 0
    want = cli(served, tmp_path, "report", *MARCH_ARGS, "--no-sync", "--format", "csv")
    assert want.returncode == 0, want.stderr
    store = OrderStore.for_settings(served.settings())
    target = store.state_path if how.startswith("state") else store.path / "orders" / "month=2026-03" / "data.parquet"
    damage(target, how)

    got = cli(served, tmp_path, "report", *MARCH_ARGS, "--no-sync", "--format", "csv")
    line = one_line(got.stderr)
    assert got.returncode != 0 and str(target) in line and "refundkit sync" in line, line

    mended = cli(served, tmp_path, "sync", *MARCH_ARGS)
    assert mended.returncode == 0, mended.stderr
    assert "was damaged" in mended.stderr and "set aside" in mended.stderr, mended.stderr
    assert list(target.parent.glob(f"{target.name}.damaged-*")), "the damaged file was not kept aside"
    again = cli(served, tmp_path, "report", *MARCH_ARGS, "--no-sync", "--format", "csv")
    assert again.returncode == 0 and again.stdout == want.stdout, again.stderr


def test_a_full_disk_gives_one_line_and_leaves_the_store_as_it_was(
    served: ServedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    got = cli(served, tmp_path, "sync", *MARCH_ARGS)
    line = one_line(got.stderr)
    assert got.returncode != 0 and "No space left on device" in line and "free some space" in line, line
    store = OrderStore.for_settings(served.settings())
    assert not list(store.path.rglob("*.parquet")) and not list(store.path.rglob("*.part"))
    monkeypatch.undo()
    assert cli(served, tmp_path, "sync", *MARCH_ARGS).returncode == 0


@pytest.mark.parametrize("command", ["sync", "report"])
def test_a_cache_dir_that_cannot_be_written_gives_one_line(served: ServedSandbox, tmp_path: Path, command: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    cache = tmp_path / "a-file" / "cache"
    args = ("--no-sync",) if command == "report" else ()
    got = cli(served, tmp_path, command, *MARCH_ARGS, *args, REFUNDKIT_CACHE_DIR=str(cache))
    line = one_line(got.stderr)
    assert got.returncode != 0 and str(cache) in line and "REFUNDKIT_CACHE_DIR" in line, line


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
@pytest.mark.parametrize("where", ["no such folder", "a folder", "a full disk", "a read-only file"])
def test_report_to_a_path_that_cannot_be_written_gives_one_line(
    served: ServedSandbox, tmp_path: Path, fmt: str, where: str
) -> None:
    import os

    assert cli(served, tmp_path, "sync", *MARCH_ARGS).returncode == 0
    if where == "no such folder":
        out = f"/nonexistent/x.{fmt}"
    elif where == "a folder":  # -o FOLDER writes the file it names inside: here that name is taken by a folder
        (tmp_path / "out" / f"refunds-report_2026-03_refund-date_UTC.{fmt}").mkdir(parents=True)
        out = str(tmp_path / "out")
    elif where == "a full disk":
        out = "/dev/full"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes read-only files")
        ro = tmp_path / f"ro.{fmt}"
        ro.write_text("")
        ro.chmod(0o444)
        out = str(ro)
    got = cli(served, tmp_path, "report", *MARCH_ARGS, "--no-sync", "--format", fmt, "-o", out)
    line = one_line(got.stderr)
    assert got.returncode != 0 and line.startswith(f"refundkit: cannot write {out}"), line


def test_a_state_file_is_read_only_in_the_shape_refundkit_writes() -> None:
    from refundkit.analytics.store import StoreState

    # an empty interval (a sync of the last minutes, as earlier versions wrote it) claims nothing
    assert StoreState.from_json({"version": 1, "coverage": [[5, 5], [1, 3]], "synced_at": 9}).coverage == [(1, 3)]
    bad: object
    for bad in ([], {"coverage": [[1]]}, {"coverage": [["1", 2]]}, {"version": 2}, {"synced_at": "yesterday"}):
        with pytest.raises(ValueError, match=r"expected|coverage|version|timestamp"):
            StoreState.from_json(bad)
