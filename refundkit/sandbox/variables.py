"""The one place that says how refundkit reaches a served sandbox: the ``VTEX_*`` variables for one account, and a
``refundkit.toml`` (with its token variables) for several served at once. ``refundkit sandbox``, ``refundkit demo``,
the desk and the tests all build them here.

The tokens are the sandbox's public demo constants: they open nothing but the fake server, so printing them is fine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .config import DEMO_APP_TOKEN, SandboxConfig

__all__ = ["SECOND_ACCOUNT", "accounts_toml", "sandbox_variables", "second_account", "token_variable"]

#: The name (in ``refundkit.toml``) and VTEX account of the second store a sandbox serves (``--accounts 2``)
SECOND_ACCOUNT = "outlet"


def sandbox_variables(base_url: str, config: SandboxConfig) -> dict[str, str]:
    """The variables that point refundkit (a shell, a script, a notebook, the desk) at the sandbox ``config`` served
    at ``base_url``: what ``refundkit sandbox`` prints."""
    return {
        "VTEX_BASE_URL": base_url,
        "VTEX_ACCOUNT_NAME": config.account,
        "VTEX_APP_KEY": config.app_key,
        "VTEX_APP_TOKEN": config.app_token,  # the sandbox's public demo token, not a real account's
        # a sandbox playing an account on VTEX's PII data architecture is read as one
        **({"REFUNDKIT_PII_ARCHITECTURE": "on"} if config.pii_architecture else {}),
    }


def second_account(config: SandboxConfig, name: str = SECOND_ACCOUNT) -> SandboxConfig:
    """Another store beside ``config``'s: its own account, credentials, orders (another seed) and Master Data (its
    own state folder, inside the first one's), with the same VTEX behaviours."""
    account = f"{config.account}-{name}"
    state_dir = Path(config.state_dir) / name if config.state_dir else None
    return replace(
        config,
        account=account,
        app_key=f"vtexappkey-{account}-SANDBOX",
        app_token=DEMO_APP_TOKEN[::-1] if config.app_token == DEMO_APP_TOKEN else config.app_token[::-1],
        seed=config.seed + 1,
        state_dir=state_dir,
    )


def token_variable(name: str) -> str:
    """The variable that holds the token of the account named ``name`` in ``refundkit.toml``: ``MAIN_VTEX_TOKEN``."""
    return f"{name.upper().replace('-', '_')}_VTEX_TOKEN"


def accounts_toml(served: Sequence[tuple[str, str, SandboxConfig]]) -> tuple[str, dict[str, str]]:
    """A ``refundkit.toml`` for sandboxes served at once, each ``(name, base_url, config)``, and the variables that
    hold their tokens (the file names them, never the tokens)."""
    lines: list[str] = ["# refundkit.toml for the sandbox's accounts (the tokens are in the variables named here)"]
    tokens: dict[str, str] = {}
    for name, base_url, config in served:
        variable = token_variable(name)
        tokens[variable] = config.app_token
        lines += [
            "",
            f"[accounts.{name}]",
            f'account = "{config.account}"',
            f'app_key = "{config.app_key}"',
            f'app_token_env = "{variable}"',
            f'base_url = "{base_url}"',
        ]
    return "\n".join(lines) + "\n", tokens
