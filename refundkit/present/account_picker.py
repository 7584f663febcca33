"""The desk's account picker: one dropdown of the accounts ``refundkit.toml`` names, shown at the top of every tab
(the same widget in each, so they always agree). Choosing an account switches the whole desk to it; the record and
import confirmations name the account they write to."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

import ipywidgets as w

from ..config import load_accounts
from ..errors import RefundkitError
from .formkit import failure_text

__all__ = ["AccountPicker", "configured_accounts", "name_account"]


def configured_accounts(env: Mapping[str, str] | None = None) -> tuple[list[str], str | None]:
    """The names of ``refundkit.toml``'s accounts (in the file's order; none: environment only) and the one to open
    first: ``REFUNDKIT_ACCOUNT``, else the one ``VTEX_ACCOUNT_NAME`` names (as the commands choose), else the
    file's first; None when the environment's account is not in the file (it is opened alone)."""
    values = dict(os.environ if env is None else env)
    entries = load_accounts(values)
    names = list(entries)
    chosen = values.get("REFUNDKIT_ACCOUNT", "").strip()
    if chosen or not names:
        return names, chosen or None
    env_account = values.get("VTEX_ACCOUNT_NAME", "").strip()
    if env_account:
        return names, next((n for n, e in entries.items() if e.account == env_account), None)
    return names, names[0]


class AccountPicker:
    """``dropdown`` (class ``refundkit-account-picker``) of ``names``; choosing one calls ``on_change(name)``, which
    switches the desk (an error it raises is shown beside the dropdown, and the choice goes back)."""

    def __init__(self, names: Sequence[str], current: str, on_change: Callable[[str], None]) -> None:
        self.dropdown = w.Dropdown(
            options=list(names), value=current, description="Account", style={"description_width": "initial"}
        )
        self.dropdown.add_class("refundkit-account-picker")
        self.message = w.HTML()
        self.widget = w.HBox([self.dropdown, self.message])
        self._on_change = on_change
        self._reverting = False
        self.dropdown.observe(self._changed, names="value")

    def _changed(self, change: Any) -> None:
        if self._reverting:
            return
        self.message.value = ""
        try:
            self._on_change(change["new"])
        except RefundkitError as exc:  # the account cannot be opened (no token, VTEX down): said; the desk stays
            self._reverting = True
            self.dropdown.value = change["old"]
            self._reverting = False
            text = failure_text(exc)
            self.message.value = f"<span class='refundkit-refused'>{escape(change['new'])}: {escape(text)}</span>"

    def on_top_of(self, tab: w.Widget) -> w.Widget:
        """``tab`` with the picker above it: what each tab of the desk shows."""
        return w.VBox([self.widget, tab])


def name_account(confirm: w.Checkbox, name: str | None) -> None:
    """Make a tab's confirmation name the account it writes to: "I confirm ... (account br)"."""
    base = str(confirm.description).split(" (account ", 1)[0]
    confirm.description = f"{base} (account {name})" if name else base
