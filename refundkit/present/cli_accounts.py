"""``refundkit accounts``: the accounts refundkit knows (``refundkit.toml``, else the ``VTEX_*`` variables), whether
each one's token is set (never its value) and whether ``refundkit doctor`` has passed on it."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..config import AccountEntry, config_file, load_accounts, load_settings
from ..doctor.outcome import doctor_outcome
from .cli_common import EXIT_OK, Output, Subcommands, add_json_flag
from .tables import write_rows

__all__ = ["account_rows", "register"]

COLUMNS = ("name", "account", "default", "token", "doctor")


def register(sub: Subcommands) -> None:
    a = sub.add_parser(
        "accounts", help="list the configured accounts: is each token set (never shown), has doctor passed"
    )
    add_json_flag(a)
    a.set_defaults(handler=cmd_accounts)


def _doctor_text(outcome: dict[str, Any] | None) -> str:
    if outcome is None:
        return "not run"
    return f"{'passed' if outcome['ok'] else 'failed'} {outcome['checked_at']}".strip()


def account_rows(env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per configured account: its name, VTEX account, whether it is the default, whether its token's
    variable is set, and doctor's last outcome here. The environment-only account is one row named ``(environment)``."""
    values = dict(os.environ if env is None else env)
    entries = load_accounts(values)
    rows: list[dict[str, Any]] = []
    if not entries:
        settings = load_settings(env=values)
        if settings.account:
            outcome = doctor_outcome(settings.cache_dir, settings.account)
            rows.append(
                {
                    "name": "(environment)",
                    "account": settings.account,
                    "default": True,
                    "token_variable": "VTEX_APP_TOKEN",
                    "token": "set" if settings.app_token else "missing",
                    "doctor": _doctor_text(outcome),
                    "doctor_passed": bool(outcome and outcome["ok"]),
                }
            )
        return rows
    default = values.get("REFUNDKIT_ACCOUNT", "").strip() or (next(iter(entries)) if len(entries) == 1 else "")
    for entry in entries.values():
        rows.append(_entry_row(entry, values, default))
    return rows


def _entry_row(entry: AccountEntry, values: dict[str, str], default: str) -> dict[str, Any]:
    cache_dir = load_settings(env=values, account=entry.name).cache_dir
    outcome = doctor_outcome(cache_dir, entry.account)
    present = entry.token_present(values)
    return {
        "name": entry.name,
        "account": entry.account,
        "default": entry.name == default,
        "token_variable": entry.app_token_env,
        "token": f"set ({entry.app_token_env})" if present else f"missing: export {entry.app_token_env}",
        "doctor": _doctor_text(outcome),
        "doctor_passed": bool(outcome and outcome["ok"]),
    }


def cmd_accounts(args: argparse.Namespace) -> int:
    out = Output.from_args(args)
    rows = account_rows()
    path = config_file()
    where = f"from {path}" if path else "from the environment (no refundkit.toml)"
    if not rows:
        out.result(
            {"file": None, "accounts": []},
            ["No account is configured: write refundkit.toml ([accounts.NAME] tables) or set VTEX_ACCOUNT_NAME."],
        )
        return EXIT_OK
    shown = [{**r, "default": "*" if r["default"] else ""} for r in rows]
    if out.as_json:
        out.result({"file": str(path) if path else None, "accounts": rows}, [])
        return EXIT_OK
    out.line(f"{len(rows)} account{'s' if len(rows) != 1 else ''} {where}:")
    write_rows(sys.stdout, shown, list(COLUMNS), "table")
    return EXIT_OK
