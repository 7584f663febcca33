"""`refundkit demo` opens working copies of the notebooks, so the committed ones stay clean."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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


def test_the_browser_gets_jupyterlabs_address_through_a_private_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    from refundkit.present import demo

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("CI", raising=False)
    url = "http://127.0.0.1:8888/lab?token=0123456789abcdef"
    demo._open_browser(url, tmp_path)
    demo._open_browser(url, tmp_path)  # a second demo run replaces the page
    page = tmp_path / "open-jupyterlab.html"
    assert opened == [page.as_uri(), page.as_uri()], "the token is not on the browser's command line"
    assert page.stat().st_mode & 0o077 == 0, "only this user can read the page"
    assert 'content="0;url=http://127.0.0.1:8888/lab?token=0123456789abcdef"' in page.read_text(encoding="utf-8")

    monkeypatch.setenv("CI", "true")
    demo._open_browser(url, tmp_path)
    assert len(opened) == 2, "no browser under CI"
