"""`record` and `import` refuse to write where the account's Master Data verdict says exactly-once cannot hold, in
one line that says why, exit 1 and nothing written (in-process through `main(argv)`, sandbox on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from refundkit.ledger import MasterDataVerdict, load_verdict, save_verdict
from refundkit.present.cli import main
from refundkit.sandbox import Sandbox, SandboxConfig, SandboxServer
from refundkit.sandbox.variables import sandbox_variables
from refundkit.testing import check_nothing_moved

LEDGER_ENTITIES = ("/offlineRefund/", "/offlineRefundOrder/")


@pytest.fixture
def account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, SandboxServer, Path]]:
    sb = Sandbox(SandboxConfig(orders=120, flash_sale_orders=0, start="2026-02-20", end="2026-04-30"))
    with sb.serve(port=0) as srv:
        cfg = sb.config
        for k, v in {
            **sandbox_variables(srv.base_url, cfg),
            "REFUNDKIT_CACHE_DIR": str(tmp_path / "cache"),
            "REFUNDKIT_USER": "clerk",
        }.items():
            monkeypatch.setenv(k, v)
        monkeypatch.chdir(tmp_path)
        yield sb, srv, tmp_path
    check_nothing_moved(sb)


def ledger_writes(sb: Sandbox) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in list(sb.requests)
        if r.method != "GET" and "/documents/" in r.path and any(e in r.path for e in LEDGER_ENTITIES)
    ] + [(r.method, r.path) for r in list(sb.requests) if r.method == "POST" and r.path == "/api/do/notes"]


def an_order(sb: Sandbox) -> str:
    return next(
        o.order_id
        for o in sb.store.orders
        if o.status == "invoiced" and o.currency == "BRL" and not o.input_invoices and o.total_cents >= 5000
    )


def one_line_refusal(capsys: pytest.CaptureFixture[str], code: int, *words: str) -> str:
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("refundkit: refused: ") and "(nothing written)" in lines[0], err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0]
    return lines[0]


def test_record_probes_an_account_that_ignores_conditions_and_refuses(account, capsys) -> None:
    sb, _srv, tmp = account
    sb.config.md_conditions_honoured = False
    code = main(["record", an_order(sb), "--amount", "1.00", "--source", "cash", "--ref", "R-1", "--yes"])
    one_line_refusal(capsys, code, "ignores _where conditions", "cannot record exactly once")
    assert ledger_writes(sb) == []
    verdict = load_verdict(tmp / "cache", sb.config.account)
    assert verdict is not None and not verdict.conditions_honoured  # probed once, kept with its date


def test_a_saved_verdict_refuses_record_and_import_even_on_a_healthy_account(account, capsys) -> None:
    sb, _srv, tmp = account
    checked = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    save_verdict(tmp / "cache", MasterDataVerdict(sb.config.account, checked, True, "refused", 412))
    order = an_order(sb)
    code = main(["record", order, "--amount", "1.00", "--source", "cash", "--ref", "R-1", "--yes"])
    one_line_refusal(capsys, code, "2026-11-30 21:00", "does not exist yet")
    csv = tmp / "refunds.csv"
    csv.write_text(
        "order_id,amount,refunded_at,source,external_ref,reason\n"
        f"{order},1.00,2026-04-01,cash,R-2,damaged\n{order},2.00,2026-04-01,cash,R-3,damaged\n",
        encoding="utf-8",
    )
    code = main(["import", str(csv)])
    one_line_refusal(capsys, code, "does not exist yet")
    assert ledger_writes(sb) == []
    # a dry run writes nothing anyway, so it still checks the file
    assert main(["import", str(csv), "--dry-run"]) == 0
    assert "2 would be recorded" in capsys.readouterr().out
