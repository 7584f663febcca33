"""The notebooks are committed clean: no outputs, no execution counts, the standard kernel, and no secrets.

Outputs hold customer data and widget state, execution counts churn on every run, an environment-specific kernel
name breaks ``pytest --nbmake`` elsewhere, and an app token in a notebook is a leaked credential.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

# VTEX app tokens are long runs of capital letters and digits; app keys start with vtexappkey-.
TOKEN_PATTERNS = [
    re.compile(r"\b[A-Z0-9]{40,}\b"),
    re.compile(r"VTEX_APP_TOKEN\s*[=:]\s*['\"]?[^\s'\"]+", re.IGNORECASE),
    re.compile(r"X-VTEX-API-AppToken['\"]?\s*[:=]\s*['\"][^'\"]+", re.IGNORECASE),
    re.compile(r"vtexappkey-[A-Za-z0-9-]+"),
]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_notebooks_are_there() -> None:
    names = {p.name for p in PATHS}
    assert {
        "00_orders_overview.ipynb",
        "01_record_offline_refunds.ipynb",
        "02_gross_vs_net.ipynb",
        "03_refund_trends.ipynb",
    } <= names


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebook_has_no_outputs_or_execution_counts(path: Path) -> None:
    nb = load(path)
    for n, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {n} of {path.name} has outputs: clear them before committing"
            assert cell.get("execution_count") is None, f"cell {n} of {path.name} has an execution count"
        assert "execution" not in cell.get("metadata", {}), f"cell {n} of {path.name} has execution timings"
    assert "widgets" not in nb["metadata"], f"{path.name} carries saved widget state"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebook_uses_the_standard_kernel_and_starts_with_prose(path: Path) -> None:
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["cells"][0]["cell_type"] == "markdown", "a notebook starts by saying what it is for"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebook_contains_nothing_that_looks_like_an_app_token(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for pattern in TOKEN_PATTERNS:
        found = pattern.search(text)
        assert found is None, f"{path.name} contains {found.group(0)[:12]}…, which looks like a credential"
