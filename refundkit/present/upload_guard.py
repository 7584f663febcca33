"""The desk page's upload guard, and the largest websocket message the desk's server takes: whatever server serves
the desk (``refundkit app``'s own, or a JupyterHub user's server with Voilà as a server extension), a file past the
Import tab's limit is told the limit and the page stays connected.

- :data:`UPLOAD_GUARD` is the page's own script: ``refundkit app``'s server puts it first in the page's head, and
  the desk's notebook shows it as the page's first output (:func:`show_upload_guard`), so it is in the page a hub's
  server serves too. Run twice, it guards once.
- :data:`WEBSOCKET_MESSAGE_LIMIT` is the largest message the server takes (tornado's default is 10 MiB, less than
  the Import tab takes): ``refundkit app`` sets it itself; in a Jupyter server this module is a server extension
  that sets it (``ServerApp.tornado_settings``, unless configured higher), switched on by the file refundkit installs
  in ``etc/jupyter/jupyter_server_config.d/refundkit.json`` (its source is :data:`JUPYTER_CONFIG`, in the
  repository's ``jupyter-config`` folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .import_form import UPLOAD_LIMIT_BYTES

__all__ = ["JUPYTER_CONFIG", "UPLOAD_GUARD", "WEBSOCKET_MESSAGE_LIMIT", "show_upload_guard"]

_SIZE_SETTING = "websocket_max_message_size"

#: An upload arrives as one message; the page sends none past the Import tab's limit (UPLOAD_GUARD), and this
#: leaves room for a page that did not run the guard.
WEBSOCKET_MESSAGE_LIMIT = 4 * UPLOAD_LIMIT_BYTES

#: The Jupyter server configuration refundkit installs (``pyproject.toml``'s data files), relative to the checkout.
JUPYTER_CONFIG = Path("jupyter-config") / "jupyter_server_config.d" / "refundkit.json"

#: The page's own script (inline, served with the page: nothing is fetched from elsewhere). ipywidgets' upload button
#: reads every chosen file whole and sends it as one websocket message; a file past the Import tab's limit is
#: handed to it as an empty file that keeps its name and its real size, so the form refuses it by its size and
#: names the limit. The file input is made by ``document.createElement`` and never put in the page, so the guard is
#: attached where inputs are made, before the widget's own listener. A page that runs it twice is guarded once.
UPLOAD_GUARD = """<script>(function () {
  if (window.refundkitUploadGuard) return;
  window.refundkitUploadGuard = true;
  var limit = LIMIT, make = Document.prototype.createElement;
  function guard(event) {
    var input = event.currentTarget, chosen = input.files ? Array.from(input.files) : [];
    if (input.type !== "file" || !chosen.some(function (f) { return f.size > limit; })) return;
    var sent = chosen.map(function (f) {
      if (f.size <= limit) return f;
      var empty = new File([], f.name, {type: f.type, lastModified: f.lastModified});
      Object.defineProperty(empty, "size", {value: f.size});
      return empty;
    });
    Object.defineProperty(input, "files", {value: sent, configurable: true});
    setTimeout(function () { delete input.files; }, 0);
  }
  Document.prototype.createElement = function (tag) {
    var made = make.apply(this, arguments);
    if (String(tag).toLowerCase() === "input") made.addEventListener("change", guard, true);
    return made;
  };
})();</script>""".replace("LIMIT", str(UPLOAD_LIMIT_BYTES))


def show_upload_guard() -> None:
    """Show :data:`UPLOAD_GUARD` as an output of the running cell (a page renders trusted HTML with its scripts)."""
    from IPython.display import HTML, display  # noqa: PLC0415  (only a kernel shows it; the desk's server does not)

    display(HTML(UPLOAD_GUARD))  # type: ignore[no-untyped-call]  # IPython.display is untyped


# -- the Jupyter server extension ----------------------------------------------------------------------------------
def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _link_jupyter_server_extension(serverapp: Any) -> None:
    """Before the server makes its web application: its websockets take messages up to the limit (a larger size
    configured by the server's owner stays)."""
    settings = dict(serverapp.tornado_settings)
    settings[_SIZE_SETTING] = max(int(settings.get(_SIZE_SETTING) or 0), WEBSOCKET_MESSAGE_LIMIT)
    serverapp.tornado_settings = settings


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Nothing more to load: the page's guard comes with the desk's notebook (:func:`show_upload_guard`)."""
