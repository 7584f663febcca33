"""Every notebook runs as well in two months and in more than a year as it does today.

The demo store runs up to today, so a notebook that named fixed dates or assumed where the data lies would break as
time passes. ``./dev test`` runs every notebook today (``--nbmake notebooks``); here each runs (nbclient, a real
kernel, on its embedded sandbox) with the clock moved 60 and 400 days ahead by ``REFUNDKIT_SANDBOX_CLOCK_SHIFT_DAYS``,
which moves the sandbox's store and dates and refundkit's today together. Where a notebook prints its range, it is
the moved clock's: the current month and the twelve before it.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from refundkit.timeutil import CLOCK_SHIFT_VARIABLE, utc_now

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(p for p in NOTEBOOKS.glob("*.ipynb"))


def printed(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook's cells printed."""
    return "".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"
    )


def expected_lines(name: str, today: date) -> list[str]:
    """What the notebook prints about its range, by the moved clock."""
    first = date(today.year - 1, today.month, 1)
    return {
        "00_orders_overview.ipynb": [f"created from {first.isoformat()}T00:00:00+00:00 up to "],
        "02_gross_vs_net.ipynb": [f"from {first} to {today} (UTC)"],
        "03_refund_trends.ipynb": [f"orders created from {first} to {today}"],
    }.get(name, [])


@pytest.mark.parametrize("days", [60, 400])
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_the_notebook_runs_with_the_clock_moved_ahead(
    path: Path, days: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith(("VTEX_", "REFUNDKIT_"))]:
        monkeypatch.delenv(key)  # the embedded sandbox, whatever this machine has configured
    monkeypatch.setenv("REFUNDKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(CLOCK_SHIFT_VARIABLE, str(days))  # the kernel inherits it
    today = utc_now().to_datetime().date()
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == [], json.dumps(errors)[:2000]
    text = printed(nb)
    for line in expected_lines(path.name, today):
        assert line in text, f"{path.name} at +{days} days does not print {line!r}:\n{text[:1500]}"
