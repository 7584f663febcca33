"""The desk's uploads under any server: the Jupyter server extension refundkit installs raises the websocket's
largest message past the Import tab's limit (tornado's default, 10 MiB, is less), and keeps a larger one."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from types import SimpleNamespace

from refundkit.present import upload_guard
from refundkit.present.import_form import UPLOAD_LIMIT_BYTES
from refundkit.present.upload_guard import JUPYTER_CONFIG, UPLOAD_GUARD, WEBSOCKET_MESSAGE_LIMIT

REPOSITORY = Path(__file__).resolve().parents[2]


def test_installing_refundkit_switches_the_extension_on_in_every_jupyter_server() -> None:
    config = json.loads((REPOSITORY / JUPYTER_CONFIG).read_text(encoding="utf-8"))
    assert config == {"ServerApp": {"jpserver_extensions": {upload_guard.__name__: True}}}
    data_files = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert data_files["data-files"]["etc/jupyter/jupyter_server_config.d"] == [JUPYTER_CONFIG.as_posix()]
    assert upload_guard._jupyter_server_extension_points() == [{"module": upload_guard.__name__}]


def test_the_extension_raises_the_websocket_message_limit_and_keeps_a_larger_one() -> None:
    assert WEBSOCKET_MESSAGE_LIMIT > UPLOAD_LIMIT_BYTES > 10 * 2**20
    server = SimpleNamespace(tornado_settings={"headers": {"X": "1"}})
    upload_guard._link_jupyter_server_extension(server)
    assert server.tornado_settings == {"headers": {"X": "1"}, "websocket_max_message_size": WEBSOCKET_MESSAGE_LIMIT}
    larger = SimpleNamespace(tornado_settings={"websocket_max_message_size": 2 * WEBSOCKET_MESSAGE_LIMIT})
    upload_guard._link_jupyter_server_extension(larger)
    assert larger.tornado_settings["websocket_max_message_size"] == 2 * WEBSOCKET_MESSAGE_LIMIT


def test_the_guard_names_the_import_tabs_limit_and_guards_once() -> None:
    assert f"var limit = {UPLOAD_LIMIT_BYTES}," in UPLOAD_GUARD
    assert "if (window.refundkitUploadGuard) return;" in UPLOAD_GUARD
