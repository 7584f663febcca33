"""One validation path: the same bad refund is refused with the same words by the ledger (record and quote), a CSV
import, the command line and the desk's Record form, and nothing is written."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from refundkit.ledger import Ledger, RefundRefused, import_refunds
from refundkit.present.record_form import RecordForm
from refundkit.testing import run_cli

from .helpers import Env


def _shown(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("which", ["bad order id", "good order"])
def test_every_entry_point_gives_the_same_problems_for_the_same_bad_refund(
    env: Env, ledger: Ledger, tmp_path: Path, which: str
) -> None:
    order = env.orders.invoiced(min_total=50_00).order_id if which == "good order" else "../orders/x"
    bad = {"amount": "12.34", "source": "bitcoin", "ref": "RCPT-ONE-1", "when": "2026-13-45", "currency": "REAIS"}
    before = env.writes()

    with pytest.raises(RefundRefused) as recorded:
        ledger.record(
            order, bad["amount"], bad["source"], bad["ref"], refunded_at=bad["when"], currency=bad["currency"]
        )
    problems = recorded.value.problems
    assert any("source" in p for p in problems) and any("refunded-at" in p for p in problems)
    assert any("three-letter" in p for p in problems)
    if which == "bad order id":
        assert "is not a VTEX order id" in problems[0]

    try:  # the quote the form and the CLI's likely-duplicate check read first lists every problem as well
        quoted = list(
            ledger.quote(
                order, bad["amount"], bad["source"], bad["ref"], refunded_at=bad["when"], currency=bad["currency"]
            ).problems
        )
    except RefundRefused as exc:
        quoted = exc.problems
    assert quoted == problems

    csv = tmp_path / "one.csv"
    csv.write_text(
        "order_id,amount,refunded_at,source,external_ref,reason,currency\n"
        f"{order},{bad['amount']},{bad['when']},{bad['source']},{bad['ref']},,{bad['currency']}\n",
        encoding="utf-8",
    )
    [row] = import_refunds(ledger, csv).rows
    # a row is refused on the checks that need no order before its order is read: the same words, those first
    assert row.outcome == "refused" and row.message and "; ".join(problems).startswith(row.message)

    cli = run_cli(
        [
            "record",
            order,
            "--amount",
            bad["amount"],
            "--source",
            bad["source"],
            "--ref",
            bad["ref"],
            "--refunded-at",
            bad["when"],
            "--currency",
            bad["currency"],
        ],
        env.env,
        tmp_path,
    )
    assert cli.code == 1 and f"refundkit: refused: {'; '.join(problems)} (nothing written)" in cli.err

    form = RecordForm(ledger)
    form.order_id.value = order
    form.amount.value, form.reference.value = bad["amount"], bad["ref"]
    form.source.options = (*form.source.options, bad["source"])  # a list offering a source the ledger does not know
    form.source.value = bad["source"]
    form.confirm.value = True
    form.record_button.click()
    shown = _shown(form.result.value)
    assert "Refused — nothing was recorded" in shown
    for p in problems:
        if "refunded-at" not in p and "currency" not in p:  # the form picks its date and has no currency field
            assert p in shown
    assert env.writes() == before
