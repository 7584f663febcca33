"""The desk's page templates: Voilà's, with nothing linked from another site (the browser side is in
tests/browser/test_offline.py)."""

from __future__ import annotations

import re
from typing import Any

import jinja2
import pytest

pytest.importorskip("voila")

from voila.paths import collect_template_paths

from refundkit.present.desk_page import TEMPLATE_DIR, LocalAssets

#: An address outside the desk in a link, a script or a style sheet.
REMOTE = re.compile(r"""(?:href|src)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


class _VoilaLike:
    """What LocalAssets extends: Voilà's own template lookup for its lab template."""

    def __init__(self) -> None:
        self.voila_configuration: Any = type("Configuration", (), {"allow_template_override": "YES"})()
        self.template_paths: list[str] = []

    def setup_template_dirs(self) -> None:
        self.template_paths = collect_template_paths(["voila", "nbconvert"], "lab", prune=True)


class _DeskLike(LocalAssets, _VoilaLike):
    pass


@pytest.fixture(scope="module")
def desk() -> _DeskLike:
    d = _DeskLike()
    d.setup_template_dirs()
    return d


def test_the_desks_templates_come_first_and_the_url_cannot_pick_another(desk: _DeskLike) -> None:
    assert desk.template_paths[0] == str(TEMPLATE_DIR)
    assert len(desk.template_paths) > 1, "Voilà's templates follow, for everything the desk does not override"
    assert desk.voila_configuration.allow_template_override == "NO"


def test_an_error_page_of_the_desk_links_nothing_from_another_site(desk: _DeskLike) -> None:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(desk.template_paths), extensions=["jinja2.ext.i18n"], autoescape=True
    )
    env.install_null_translations()  # type: ignore[attr-defined]  # added by the i18n extension
    page = env.get_template("error.html").render(status_code=500, status_message="Internal Server Error")
    assert "500: Internal Server Error" in page
    assert REMOTE.findall(page) == []


def test_the_desks_page_template_links_nothing_from_another_site(desk: _DeskLike) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(desk.template_paths), autoescape=True)
    source, _, _ = env.loader.get_source(env, "index.html.j2")  # type: ignore[union-attr]  # set just above
    assert "extends 'lab/index.html.j2'" in source
    assert REMOTE.findall(source) == []
