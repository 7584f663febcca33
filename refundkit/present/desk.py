"""The refund desk: the web app ``refundkit app`` serves (Voilà, no code visible), in four tabs.

- **Record**: look an order up, record an offline refund exactly once, reverse one from the order's ledger;
- **Import**: upload a CSV, see every row checked, record the good rows, download the per-row result;
- **Report**: gross versus net revenue for a range, with the chart, the table and CSV/XLSX downloads;
- **Refunds**: every recorded refund and reversal, newest first, filtered and paged, exported as CSV/XLSX, and
  reversible by a recorder.

The same desk works in a notebook: ``RefundDesk(refundkit.connect())``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..config import load_settings
from ..errors import RefundkitError
from ..session import connect
from ..timeutil import zone
from .account_picker import AccountPicker, configured_accounts, name_account
from .audit import AUDIT_VARIABLE, audited
from .desk_users import can_record
from .formkit import Form, failure_text, store_zone
from .import_form import ImportForm
from .record_form import RecordForm
from .refunds_tab import RefundsTab
from .upload_guard import show_upload_guard

__all__ = ["TAB_TITLES", "DeskPerson", "RefundDesk", "serve_desk"]

TAB_TITLES = ("Record", "Import", "Report", "Refunds")

#: CSS for the app page: readable widths, a visible keyboard focus, no notebook chrome.
_CSS = """
<style>
.refundkit-desk { max-width: 80em; margin: 0 auto; }
.refundkit-desk :focus-visible { outline: 2px solid #1565c0; outline-offset: 1px; }
.refundkit-refused { color: #b00020; }
.refundkit-duplicate { color: #8a5a00; }
.refundkit-done { color: #1b5e20; }
.refundkit-blocked { color: #b00020; margin: 0.3em 0; }
.refundkit-viewer { color: #8a5a00; }
.refundkit-desk table td, .refundkit-desk table th { padding: 0.1em 0.8em 0.1em 0; }
</style>
"""


class RefundDesk(Form):
    """The four tabs over one session (``refundkit.connect()``). ``report_factory`` builds the Report tab's form
    (a :class:`~refundkit.present.explorer.RevenueExplorer` read on its "Show report" button) the first time the tab
    is opened (collecting revenue reads many orders, so it is not done at start-up)."""

    def __init__(
        self,
        session: Any,
        *,
        tz: str | None = None,
        report_factory: Callable[[Any, str], Any] | None = None,
        person: DeskPerson | None = None,
        accounts: Sequence[str] = (),
        open_account: Callable[[str], Any] | None = None,
    ) -> None:
        tz = store_zone(session.ledger, tz)
        zone(tz)
        self.tz = tz
        self._report_factory = report_factory or _default_report
        self.person = person
        # several accounts (refundkit.toml): a picker on every tab; a session is opened when first chosen
        current = getattr(getattr(session, "settings", None), "name", None)
        self._sessions: dict[str, Any] = {current: session} if current else {}
        self._open_account = open_account or (lambda name: connect(account=name, demo=False))
        self.picker = AccountPicker(accounts, current, self.switch_account) if current and len(accounts) > 1 else None
        self.tabs = w.Tab()
        self.header = w.HTML()
        self._show(session)
        self.tabs.titles = TAB_TITLES
        self.tabs.observe(self._tab_changed, names="selected_index")
        self.widget = w.VBox([self.header, self.tabs])
        self.widget.add_class("refundkit-desk")

    def _show(self, session: Any) -> None:
        """Build the four tabs over ``session`` (at start, and when another account is picked)."""
        person = self.person
        self.session = session
        self.record = RecordForm(session.ledger, tz=self.tz)
        self.imports = ImportForm(session.ledger)
        self.report: Any = None
        self._report_box = w.VBox([w.HTML("<p>Open this tab to build the report.</p>")])
        self.refunds = RefundsTab(session.ledger, tz=self.tz, read_only=person.read_only if person else None)
        tabs = [self.record.widget, self.imports.widget, self._report_box, self.refunds.widget]
        if self.picker is not None:
            name = session.settings.name
            name_account(self.record.confirm, name)
            name_account(self.imports.confirm, name)
            tabs = [self.picker.on_top_of(tab) for tab in tabs]
        self.tabs.children = tabs
        where = escape(session.describe()) if hasattr(session, "describe") else ""
        self.header.value = (
            f"{_CSS}<h2 style='margin-bottom:0'>refundkit — refund desk</h2>"
            f"<p style='color:#555;margin-top:0.2em'>{where}</p>{person.header_html() if person else ''}"
        )

    def switch_account(self, name: str) -> None:
        """Show the desk of the account ``name`` of refundkit.toml (opened the first time it is picked)."""
        if name not in self._sessions:
            self._sessions[name] = self._open_account(name)
        self._show(self._sessions[name])
        if self.tabs.selected_index == 3:
            self.refunds.show()

    def _tab_changed(self, change: Any) -> None:
        if change["new"] == 2:
            self.open_report()
        elif change["new"] == 3 and self.refunds.page is None:
            self.refunds.show()  # read when first opened, not at start-up

    def open_report(self) -> Any:
        """Build the Report tab's form (once per account)."""
        if self.report is None:
            self._report_box.children = (w.HTML("<p>Reading orders and refunds for the report…</p>"),)
            try:
                self.report = self._report_factory(self.session, self.tz)
            except Exception as exc:
                self._report_box.children = (
                    w.HTML(f"<div class='refundkit-refused'>The report cannot be built: {escape(failure_text(exc))}"),
                )
                return None
            self._report_box.children = (self.report.widget,)
        return self.report


def _default_report(session: Any, tz: str) -> Any:
    from .explorer import RevenueExplorer  # noqa: PLC0415  (the report's analytics load when the tab is first opened)

    return RevenueExplorer(session, tz=tz, live=False)


@dataclass(frozen=True)
class DeskPerson:
    """Who the page is for, as the desk's server says (never the visitor): ``name`` records every refund, import and
    reversal; ``role`` None means the one person who started the desk (every right); ``served`` when the page has a
    session to sign out of."""

    name: str | None
    role: str | None
    served: bool

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> DeskPerson:
        """From the variables Voilà gives the page's kernel: the signed-in person of a team desk (set by the server
        from the session, whatever the browser sent), or JupyterHub's user."""
        name = environ.get("HTTP_X_DESK_USER") or environ.get("JUPYTERHUB_USER") or None
        role = environ.get("HTTP_X_DESK_ROLE") or None
        return cls(name, role, bool(environ.get("HTTP_X_DESK_SESSION")))

    @property
    def read_only(self) -> str | None:
        """Why this person writes nothing to VTEX, or None when they may."""
        if self.role is None or can_record(self.role):
            return None
        return (
            f"{self.name} is signed in as a {self.role}: recording, importing and reversing refunds need the "
            "recorder role (ask an admin: refundkit users set-role)"
        )

    def header_html(self) -> str:
        parts = []
        if self.name:
            role = f" ({escape(self.role)})" if self.role else ""
            parts.append(f"Signed in as <b class='refundkit-person'>{escape(self.name)}</b>{role}")
        if self.served:
            parts.append("<a class='refundkit-sign-out' href='/logout'>Sign out</a>")
        line = f"<p style='margin-top:0.2em'>{' · '.join(parts)}</p>" if parts else ""
        if self.read_only:
            line += f"<p class='refundkit-viewer'>{escape(self.read_only)}.</p>"
        return line


def serve_desk() -> Any:
    """What the app's page runs: connect to the account configured in the environment, as the signed-in person
    (:class:`DeskPerson`), and show the desk (or, when that fails, what to fix). ``REFUNDKIT_APP_TZ`` is the time
    zone dates are shown in (``--tz``; else the store's, ``REFUNDKIT_STORE_TZ``; else UTC). A viewer's connection
    refuses every write before it is sent. The page's upload guard is shown first, so it is in the page whatever
    server serves it (a JupyterHub user's server too)."""
    show_upload_guard()
    tz = os.environ.get("REFUNDKIT_APP_TZ", "").strip() or None  # None: the store's (REFUNDKIT_STORE_TZ)
    person = DeskPerson.from_environ(os.environ)
    try:
        names, default = configured_accounts()

        def open_account(name: str | None) -> Any:
            settings = load_settings(account=name)
            if person.name:
                settings = settings.with_(user=person.name)
            session = connect(demo=False, settings=settings, setup=person.read_only is None, read_only=person.read_only)
            trail = os.environ.get(AUDIT_VARIABLE)
            if trail:
                audited(session.ledger, Path(trail), settings.user)  # its writing methods report to the trail
            return session

        return RefundDesk(open_account(default), tz=tz, person=person, accounts=names, open_account=open_account)
    except RefundkitError as exc:
        return w.HTML(f"<h2>refundkit</h2><p class='refundkit-refused'>{escape(failure_text(exc))}</p>")
