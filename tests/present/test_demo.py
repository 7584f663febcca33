"""`refundkit demo` opens working copies of the notebooks, so the committed ones stay clean."""

from __future__ import annotations

from pathlib import Path

from refundkit.present.demo import working_copies


def test_working_copies_keep_demo_edits_and_follow_committed_changes(tmp_path: Path) -> None:
    notebooks, work = tmp_path / "notebooks", tmp_path / ".demo" / "notebooks"
    notebooks.mkdir()
    (notebooks / "01.ipynb").write_text("committed v1")
    [copy] = working_copies(notebooks, work)
    assert copy == work / "01.ipynb" and copy.read_text() == "committed v1"

    copy.write_text("autosaved outputs")  # what JupyterLab does to an open notebook
    working_copies(notebooks, work)
    assert copy.read_text() == "autosaved outputs", "a restart keeps the demo's edits"
    assert (notebooks / "01.ipynb").read_text() == "committed v1", "the committed notebook is untouched"

    (notebooks / "01.ipynb").write_text("committed v2")  # a pull brought a new version
    working_copies(notebooks, work)
    assert copy.read_text() == "committed v2"
    assert (work / "01.ipynb.bak").read_text() == "autosaved outputs"


def test_the_working_folder_is_ignored_by_git() -> None:
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().split()
    assert ".demo/" in ignored
