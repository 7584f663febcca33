"""The desk's page as the browser receives it: every asset from the desk itself, and a clean end when it is left.

Two things Voilà does on its own, corrected here, each in one place:

- Voilà's lab template links Font Awesome from a CDN (jsdelivr), although its own bundle (``static/voila-style.js``)
  already serves Font Awesome 5 and its version 4 names with fonts from the desk; its error pages' frame links
  Font Awesome 4 from the same CDN. :class:`LocalAssets` puts the desk's templates (``desk_template/``: the page and
  the frame without those links) before Voilà's, and refuses ``?template=``, which would pick another of Voilà's
  templates, with other links. So the desk works on a machine with no internet access.
- When a page is left (reloaded, closed), Voilà's page asks the server to shut its kernel down, signing the request
  with the ``_xsrf`` cookie; Voilà's page handler never sets that cookie, so the request was refused (403, an error in
  the browser's console on every reload) and the left page's kernel lived on until culled, holding one of the desk's
  ``--max-sessions`` places. :class:`SetsXsrfCookie` sets it with the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["TEMPLATE_DIR", "LocalAssets", "SetsXsrfCookie"]

#: The desk's templates, looked up before Voilà's (``index.html.j2``, ``page.html``).
TEMPLATE_DIR = Path(__file__).with_name("desk_template")


class LocalAssets:
    """For a :class:`voila.app.Voila` subclass: the desk's templates first, and no template chosen by the URL."""

    template_paths: list[str]
    voila_configuration: Any

    def setup_template_dirs(self) -> None:
        super().setup_template_dirs()  # type: ignore[misc]  # Voilà's, which has no type information
        self.voila_configuration.allow_template_override = "NO"
        self.template_paths = [str(TEMPLATE_DIR), *self.template_paths]


class SetsXsrfCookie:
    """For the page's handler: the page comes with the ``_xsrf`` cookie, which its request to shut its kernel down
    on leaving carries (tornado sets the cookie once the token is read)."""

    xsrf_token: bytes

    async def prepare(self) -> None:
        await super().prepare()  # type: ignore[misc]  # jupyter_server's, which has no type information
        _ = self.xsrf_token
