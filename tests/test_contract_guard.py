"""Contract tests cannot pass by skipping under CI: without the specs (../shared/vtex-openapi) a test marked
``contract`` skips on a laptop, with a message, and fails when CI=true (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import tests.conftest as root


@pytest.fixture
def no_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    missing = tmp_path / "no-such-specs"
    monkeypatch.setattr(root, "SPECS", missing)
    return missing


def test_missing_specs_skip_a_contract_test_on_a_laptop(no_specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-specs"):
        root.require_specs()


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_missing_specs_fail_a_contract_test_in_ci(no_specs: Path, monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI=true, so this fails instead of skipping"):
        root.require_specs()


def test_the_check_runs_before_every_contract_test_and_only_those(
    no_specs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    contract = SimpleNamespace(get_closest_marker=lambda name: object() if name == "contract" else None)
    other = SimpleNamespace(get_closest_marker=lambda name: None)
    root.pytest_runtest_setup(other)  # type: ignore[arg-type]  # a stand-in with what the hook reads
    with pytest.raises(pytest.fail.Exception):
        root.pytest_runtest_setup(contract)  # type: ignore[arg-type]  # a stand-in with what the hook reads


def test_a_missing_spec_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "orders.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(root, "SPECS", tmp_path)
    monkeypatch.delenv("CI", raising=False)
    root.require_specs("orders.json")
    with pytest.raises(pytest.skip.Exception, match=r"missing do\.json"):
        root.require_specs("orders.json", "do.json")
