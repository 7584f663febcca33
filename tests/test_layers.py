"""Layering, checked from the code: transport → VTEX resources → domain → analytics → session → presentation; the
sandbox uses only the base. docs/layers.py draws the picture docs/architecture.md shows and finds violations."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "layers.py"


@pytest.fixture(scope="module")
def layers() -> ModuleType:
    """docs/layers.py, loaded once for the module (it caches what it parsed)."""
    spec = importlib.util.spec_from_file_location("refundkit_layers", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_layer_imports_a_higher_one(layers: ModuleType) -> None:
    assert layers.violations() == []


def test_the_picture_in_the_architecture_doc_is_the_codes(layers: ModuleType) -> None:
    doc = (SCRIPT.parent / "architecture.md").read_text(encoding="utf-8")
    assert layers.picture() in doc, "run python docs/layers.py and paste its picture into docs/architecture.md"


def test_every_module_belongs_to_a_layer(layers: ModuleType) -> None:
    for module, target, _ in layers.imports():
        layers.layer_of(module)
        layers.layer_of(target)


def test_a_lower_layer_importing_a_higher_one_is_reported(
    layers: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "refundkit"
    (pkg / "ledger").mkdir(parents=True)
    (pkg / "ledger" / "__init__.py").write_text("from ..money import Money\n", encoding="utf-8")
    (pkg / "money.py").write_text("from .ledger import Ledger\n", encoding="utf-8")
    (pkg / "sandbox").mkdir()
    (pkg / "sandbox" / "__init__.py").write_text("from refundkit.vtex import VtexClient\n", encoding="utf-8")
    (pkg / "vtex").mkdir()
    (pkg / "vtex" / "__init__.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..ledger import Ledger\n", encoding="utf-8"
    )
    monkeypatch.setattr(layers, "PACKAGE", pkg)
    found = layers.violations()
    assert len(found) == 2, found  # the TYPE_CHECKING import is not a run-time import
    assert any("refundkit.money (base) imports refundkit.ledger (domain)" in f for f in found)
    assert any("refundkit.sandbox (sandbox) imports refundkit.vtex (vtex)" in f for f in found)


def test_no_modules_import_each_other(layers: ModuleType) -> None:
    assert layers.cycles() == []


def test_no_modules_import_each_other_even_behind_type_checking(layers: ModuleType) -> None:
    """A loop that only type checkers see is still two modules that need each other."""
    assert layers.cycles(type_checking=True) == []


def _package(root: Path, files: dict[str, str]) -> Path:
    """A fake refundkit under ``root`` holding ``files`` (path in the package: source); returns the package."""
    pkg = root / "refundkit"
    for name, source in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(source, encoding="utf-8")
    return pkg


def test_an_import_cycle_behind_type_checking_is_reported(
    layers: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shape ledger/reconcile.py and ledger/recording.py once had."""
    hidden = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .recording import Ledger\n"
    files = {"ledger/__init__.py": "", "ledger/recording.py": "from .reconcile import reconcile\n"}
    monkeypatch.setattr(layers, "PACKAGE", _package(tmp_path, {**files, "ledger/reconcile.py": hidden}))
    assert layers.cycles() == []
    assert layers.cycles(type_checking=True) == [["ledger.reconcile", "ledger.recording"]]


def test_an_import_cycle_is_reported_even_through_a_lazy_import(
    layers: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shape sandbox/oms.py and sandbox/store.py once had: a top-level import one way, a lazy one back."""
    lazy = "def detail():\n    from .oms import order_detail\n"
    files = {"sandbox/__init__.py": "", "sandbox/oms.py": "from .store import Store\n", "sandbox/store.py": lazy}
    monkeypatch.setattr(layers, "PACKAGE", _package(tmp_path, files))
    assert layers.cycles() == [["sandbox.oms", "sandbox.store"]]


def test_every_module_has_its_line_in_the_architecture_docs_module_table(layers: ModuleType) -> None:
    doc = (SCRIPT.parent / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w/]+\.py)` \| (\w+) \|", doc, flags=re.MULTILINE)
    listed = dict(rows)
    assert len(listed) == len(rows), "a module has two lines in the module table of docs/architecture.md"
    package = layers.PACKAGE
    modules = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    missing = sorted(modules - set(listed))
    gone = sorted(set(listed) - modules)
    assert not missing, f"add a line for {', '.join(missing)} to the module table in docs/architecture.md"
    assert not gone, f"remove the line for {', '.join(gone)} from the module table in docs/architecture.md"
    for path, layer in listed.items():
        module = layers._module_name(package / path, package)
        assert layers.layer_of(module) == layer, f"{path} is in layer {layers.layer_of(module)}, not {layer}"
