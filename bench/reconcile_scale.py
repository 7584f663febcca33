"""Benchmark: ``Ledger.reconcile`` (what ``refundkit reconcile`` runs) over ledgers of growing size (1,000, 3,000,
10,000 entries), time, calls and memory.

A ledger of many entries cannot be made quickly by recording them (several calls each), so the sandbox's Master
Data and notes are filled directly (``refundkit.testing.seed_ledger``: the documents and notes refundkit writes,
built by the package's own functions) with N entries on about N/3 orders of the sandbox's store, each entry as far
as its recording got:

* most complete (note posted, entry document written), on orders an earlier reconcile already settled;
* some complete on orders no reconcile has seen yet (reconcile copies the notes' outcome into the order's ledger);
* some with the note missing (its post failed), some with the entry document missing too (the recorder stopped
  after the ledger write), some with the entry document missing but the note posted (stopped after the note);
* a few orders refunded beyond their total (over-refunds allowed with a reason), a few refunds reversed.

The sandbox is served on loopback by this process; the reconcile runs in a child process (a ``Ledger`` on a
``VtexClient``, its cache under a temporary folder outside the repository, deleted afterwards), so that the child's
peak memory is the reconcile's alone and not the sandbox's. That peak is the child's own high-water mark
(``VmHWM`` in ``/proc/self/status``, read by the child as it ends), not ``os.wait4``'s ``ru_maxrss``: on Linux a
child's ``ru_maxrss`` keeps the resident set of the process it was spawned from (here the sandbox, which grows with
the ledger), so it would grow with the sandbox whatever the reconcile holds. The schemas and the account's Master
Data verdict are saved before the child starts, so every call the sandbox counts is the reconcile's. For each size it
prints the entries and orders, what the reconcile did, the calls, the wall time, the time per 1,000 entries, the CPU
time of the reconcile (in the child) and of the sandbox (this process, while the child ran) per 1,000 entries, and
the child's peak memory: time should grow in step with the entries and memory should not. The CPU times say where
the time went on a machine busy with other work, where wall time alone would mislead.

Why these sizes: 10,000 entries is years of offline refunds for a large store (each a refund paid outside VTEX),
and the three sizes span ten times; on an idle machine the three runs take about two minutes in all (most of it the
reconcile itself, about three calls an entry at the sandbox's pace).

The baseline, measured in the same run, is the floor the sandbox's pacing allows: the calls the reconcile made,
divided by the rate a client allows itself against the sandbox (``refundkit.vtex.limiter.SANDBOX_RATE`` calls a
second), as in ``bench/list_orders.py``. (Until a first 429 the client's pace keeps rising past that rate, so a run
may beat this floor a little.) Nothing is asserted on time. What the reconcile did is checked after each
run: each missing note posted once (and its entry's marker on its order once), the notes already there found, the
missing entry documents written, the over-refunded orders reported, nothing else written, no money moved
(``refundkit.testing.check_nothing_moved``); a wrong result makes the script exit 1.

    .venv/bin/python bench/reconcile_scale.py                     # 1k, 3k, 10k entries
    .venv/bin/python bench/reconcile_scale.py --quick             # 300, 1k (a smoke run)
    .venv/bin/python bench/reconcile_scale.py --sizes 3000,30000  # chosen sizes
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refundkit.config import load_settings
from refundkit.ledger import Ledger
from refundkit.ledger.model import KNOWN_SOURCES, REFUND, REVERSAL, LedgerEntry, refund_id, reversal_id
from refundkit.money import Money
from refundkit.sandbox import Sandbox, SandboxConfig
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import SeedEntry, check_nothing_moved, notes_marked, seed_ledger, stored_doc
from refundkit.timeutil import Instant
from refundkit.vtex import VtexClient
from refundkit.vtex.limiter import SANDBOX_RATE

START, END, TODAY = "2026-01-01", "2026-06-30", "2026-07-01"
PER_ORDER = 3  # entries per order on average (1 to 5)
DAY_NS = 86_400 * 10**9
#: how far each entry's recording got, (note posted, entry document written), and how often
MIX = [(True, True), (False, True), (False, False), (True, False)]
MIX_WEIGHTS = [85, 7, 4, 4]

CHILD = r"""
import json, os, re, sys, time
from refundkit.config import load_settings
from refundkit.ledger import Ledger
from refundkit.vtex import VtexClient

settings = load_settings(env=dict(os.environ), env_file=False)
with VtexClient(settings) as client:
    ledger = Ledger(client)
    began, cpu = time.monotonic(), time.process_time()
    report = ledger.reconcile()
    seconds, cpu = time.monotonic() - began, time.process_time() - cpu
with open("/proc/self/status") as f:  # this process's own peak resident set, in kB
    peak_kb = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_kb": peak_kb, "report": report.as_dict()}))
"""


@dataclass
class Plan:
    """The ledger seeded, and what a right reconcile does to it."""

    seeds: list[SeedEntry] = field(default_factory=list)
    orders: set[str] = field(default_factory=set)
    to_post: set[str] = field(default_factory=set)  # entries whose note is not on the order
    to_find: set[str] = field(default_factory=set)  # entries whose note is there but not said in a document
    repaired: set[str] = field(default_factory=set)  # entries without their entry document
    over: set[str] = field(default_factory=set)  # orders refunded beyond their total
    reversals: int = 0


@dataclass
class Row:
    entries: int
    orders: int
    calls: int
    seconds: float
    child_cpu: float
    sandbox_cpu: float
    peak_mb: float
    posted: int
    repaired: int
    over: int
    seeded: str
    problems: list[str]


def sandbox_config(entries: int, seed: int) -> SandboxConfig:
    # the store holds about three times the orders the ledger needs: only invoiced orders without any refund of
    # VTEX's own are used (their balance is then the order's total less the offline refunds)
    return SandboxConfig(seed=seed, orders=entries + 1000, flash_sale_orders=0, start=START, end=END, today=TODAY)


def plan_ledger(sb: Sandbox, entries: int, seed: int) -> Plan:
    """N entries on about N/3 orders, in the mix the module docstring describes (deterministic from ``seed``)."""
    rng = random.Random(seed)
    store = sb.store
    usable = [
        o
        for o in store.orders
        if o.status == "invoiced"
        and not o.input_invoices
        and o.order_id not in store.adjustments
        and o.total_cents >= 2000
    ]
    rng.shuffle(usable)
    plan = Plan()
    n = 0
    for o in usable:
        if n >= entries:
            break
        k = min(rng.randint(1, 2 * PER_ORDER - 1), entries - n)
        over = k >= 2 and rng.random() < 0.02
        reversed_one = k >= 3 and not over and rng.random() < 0.1
        refunds = k - 1 if reversed_one else k
        settled_before = rng.random() < 0.8  # an earlier reconcile saw this order
        # amounts: half the total spread over the refunds, or the whole total and a tenth more (an over-refund)
        budget = o.total_cents + o.total_cents // 10 if over else o.total_cents // 2
        when = o.created.ns + rng.randint(1, 20) * DAY_NS
        made: list[LedgerEntry] = []
        paid = 0
        for j in range(refunds):
            amount = max(1, budget // refunds)
            paid += amount
            source = KNOWN_SOURCES[(n + j) % len(KNOWN_SOURCES)]
            ref = f"BENCH-{n + j:07d}"
            at = Instant(when + j * 3_600 * 10**9)
            made.append(
                LedgerEntry(
                    entry_id=refund_id(o.order_id, source, ref),
                    order_id=o.order_id,
                    kind=REFUND,
                    amount=Money(amount, o.currency),
                    refunded_at=at,
                    source=source,
                    external_ref=ref,
                    reason="damaged in transit",
                    note="",
                    recorded_by="bench",
                    recorded_at=Instant(at.ns + 600 * 10**9),
                    over_refund=paid > o.total_cents,
                    over_refund_reason="goodwill beyond the order's total" if paid > o.total_cents else "",
                )
            )
        if reversed_one:
            first = made[0]
            at = Instant(when + refunds * 3_600 * 10**9)
            made.append(
                LedgerEntry(
                    entry_id=reversal_id(first.entry_id),
                    order_id=o.order_id,
                    kind=REVERSAL,
                    amount=first.amount,
                    refunded_at=at,
                    source=first.source,
                    external_ref=first.external_ref,
                    reason="recorded on the wrong order",
                    note="",
                    recorded_by="bench",
                    recorded_at=at,
                    reverses=first.entry_id,
                )
            )
            plan.reversals += 1
        if over:
            plan.over.add(o.order_id)
        for e in made:
            # complete; the note's post failed; stopped after the ledger write; stopped after the note
            note, document = rng.choices(MIX, weights=MIX_WEIGHTS)[0]
            plan.seeds.append(SeedEntry(e, note=note, document=document, settled=settled_before))
            if not note:
                plan.to_post.add(e.entry_id)
            elif not document:
                plan.to_find.add(e.entry_id)
            if not document:
                plan.repaired.add(e.entry_id)
        plan.orders.add(o.order_id)
        n += k
    if n < entries:
        raise SystemExit(f"the sandbox's store has too few usable orders for {entries:,} entries")
    return plan


_WRITE = re.compile(r"^/api/dataentities/(?P<entity>[^/]+)/documents/(?P<id>[^/]+)$")


def check(sb: Sandbox, plan: Plan, report: dict[str, Any], entity: str) -> list[str]:
    """What is wrong with what the reconcile did (nothing: an empty list)."""
    problems = []

    def same(name: str, seen: list[str], want: set[str]) -> None:
        if len(seen) != len(set(seen)) or set(seen) != want:
            problems.append(f"{name}: {len(set(seen) - want)} extra, {len(want - set(seen))} missing")

    same("notes posted", report["notes_posted"], plan.to_post)
    same("notes found", report["notes_found"], plan.to_find)
    same("documents repaired", report["documents_repaired"], plan.repaired)
    same("over-refunded", [o["order_id"] for o in report["over_refunded"]], plan.over)
    for name in ("failed", "in_progress", "notes_impossible"):
        if report[name]:
            problems.append(f"{name}: {len(report[name])} ({str(report[name][0])[:200]})")
    posts = sum(1 for r in sb.requests if r.method == "POST" and r.path == "/api/do/notes")
    if posts != len(plan.to_post):
        problems.append(f"{posts} notes posted, {len(plan.to_post)} expected")
    entries = {s.entry.entry_id: s.entry for s in plan.seeds}
    twice = [i for i, e in entries.items() if notes_marked(sb, e.order_id, i) != 1]
    if twice:
        problems.append(f"{len(twice)} entries without exactly one note on their order (first: {twice[0]})")
    pending = [i for i in entries if (stored_doc(sb, entity, i) or {}).get("noteStatus") != "posted"]
    if pending:
        problems.append(f"{len(pending)} entry documents missing or not saying the note posted (first: {pending[0]})")
    for r in sb.requests:
        if r.method == "GET":
            continue
        m = _WRITE.match(r.path)
        ok = r.method == "POST" and r.path == "/api/do/notes"
        ok = ok or (r.method == "PUT" and m is not None and m["entity"] in (entity, entity + "Order"))
        if not ok:
            problems.append(f"unexpected write: {r.method} {r.path}")
            break
    try:
        check_nothing_moved(sb)
    except AssertionError as exc:
        problems.append(str(exc))
    return problems


def seeded(plan: Plan) -> str:
    complete = sum(1 for s in plan.seeds if s.note and s.document)
    return (
        f"seeded: {complete:,} entries complete, {len(plan.to_post):,} without their note, {len(plan.repaired):,} "
        f"without their entry document ({len(plan.to_find):,} of them with their note), {plan.reversals:,} "
        f"reversals, {len(plan.over):,} orders refunded beyond their total"
    )


def run_size(entries: int, seed: int, tmp: Path) -> Row:
    sb = Sandbox(sandbox_config(entries, seed))
    plan = plan_ledger(sb, entries, seed)
    cache = tmp / f"n{entries}"
    with sb.serve(port=0) as srv:
        env = {
            **os.environ,
            **sandbox_variables(srv.base_url, sb.config),
            "REFUNDKIT_CACHE_DIR": str(cache),
            "REFUNDKIT_USER": "bench",
        }
        settings = load_settings(env=env, env_file=False)
        with VtexClient(settings) as client:
            Ledger(client).setup()  # the schemas, and the verdict saved where the child's ledger finds it
        seed_ledger(sb, plan.seeds, entity=settings.entity)
        sb.clear_records()
        before = resource.getrusage(resource.RUSAGE_SELF)
        proc = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        code = proc.wait()
        after = resource.getrusage(resource.RUSAGE_SELF)
    if code != 0:
        raise SystemExit(f"the reconcile of {entries:,} entries failed (exit {code})")
    got = json.loads(out.strip().splitlines()[-1])
    report = got["report"]
    return Row(
        entries,
        len(plan.orders),
        len(sb.requests),
        got["seconds"],
        got["cpu"],
        (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        got["peak_kb"] / 1024,
        len(report["notes_posted"]),
        len(report["documents_repaired"]),
        len(report["over_refunded"]),
        seeded(plan),
        check(sb, plan, report, settings.entity),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 300 and 1,000 entries")
    p.add_argument("--sizes", default=None, help="ledger entries per run, comma-separated (default 1000,3000,10000)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    text = args.sizes or ("300,1000" if args.quick else "1000,3000,10000")
    sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]

    print(f"sandbox on loopback, ledger seeded in its Master Data (about {PER_ORDER} entries an order); reconcile in a")
    print(f"child process; floor: its calls / {SANDBOX_RATE:g} calls per second (the pace a client allows itself here)")
    print("cpu ms/1k: CPU time per 1,000 entries of the reconcile's process and of the sandbox's (this one)")
    print(
        f"{'entries':>8} {'orders':>7} {'posted':>7} {'repaired':>8} {'over':>5} {'calls':>7} {'recon s':>8} "
        f"{'floor s':>8} {'x floor':>7} {'ms/1k':>7} {'cpu ms/1k':>9} {'sandbox':>8} {'peak MB':>8}"
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="refundkit-reconcilebench-") as tmp:
        for size in sizes:
            r = run_size(size, args.seed, Path(tmp))
            rows.append(r)
            floor = r.calls / SANDBOX_RATE
            print(
                f"{r.entries:>8,} {r.orders:>7,} {r.posted:>7,} {r.repaired:>8,} {r.over:>5,} {r.calls:>7,} "
                f"{r.seconds:>8.1f} {floor:>8.1f} {r.seconds / floor:>7.2f} {1e6 * r.seconds / r.entries:>7.0f} "
                f"{1e6 * r.child_cpu / r.entries:>9.0f} {1e6 * r.sandbox_cpu / r.entries:>8.0f} {r.peak_mb:>8.0f}",
                flush=True,
            )
            print(f"  {r.seeded}")
            for problem in r.problems:
                print(f"  WRONG: {problem}")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print(
            f"from {a.entries:,} to {b.entries:,} entries ({b.entries / a.entries:.1f}x): reconcile time "
            f"{b.seconds / a.seconds:.1f}x, time per 1,000 entries {1e6 * a.seconds / a.entries:.0f} -> "
            f"{1e6 * b.seconds / b.entries:.0f} ms, CPU per 1,000 entries {1e6 * a.child_cpu / a.entries:.0f} -> "
            f"{1e6 * b.child_cpu / b.entries:.0f} ms (sandbox {1e6 * a.sandbox_cpu / a.entries:.0f} -> "
            f"{1e6 * b.sandbox_cpu / b.entries:.0f} ms), calls per entry {a.calls / a.entries:.2f} -> "
            f"{b.calls / b.entries:.2f}, child's peak memory {a.peak_mb:.0f} -> {b.peak_mb:.0f} MB "
            f"({b.peak_mb / a.peak_mb:.1f}x)"
        )
    ok = all(not r.problems for r in rows)
    print(
        "every missing note posted once, every missing entry document written, every over-refund reported, "
        "nothing else written, no money moved"
        if ok
        else "WRONG: see above"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
