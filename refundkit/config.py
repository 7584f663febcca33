"""Settings from environment variables or a ``.env`` file.

=====================  =====================================================================================
``VTEX_ACCOUNT_NAME``  the account, as in ``https://{account}.vtexcommercestable.com.br``
``VTEX_ENVIRONMENT``   default ``vtexcommercestable``
``VTEX_APP_KEY``       app key (``vtexappkey-…``)
``VTEX_APP_TOKEN``     app token: a :class:`Secret`, never printed
``VTEX_BASE_URL``      when set, replaces ``https://{account}.{environment}.com.br`` for OMS, Master Data and Do
                       (the sandbox, a proxy)
``REFUNDKIT_CACHE_DIR`` local files (sandbox state); default ``~/.cache/refundkit``
``REFUNDKIT_ENTITY``   Master Data entity of the refund ledger; default ``offlineRefund``
``REFUNDKIT_USER``     who records refunds; default the OS user
``REFUNDKIT_EXTRA_SOURCES`` refund sources beyond the built-in ones, comma-separated (``pix-manual,voucher``)
=====================  =====================================================================================

Environment variables win over the ``.env`` file, which is read (with python-dotenv's parser) from the current folder
or the nearest parent.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv.parser import parse_stream

from .errors import ConfigError

__all__ = ["SANDBOX_HINT", "Secret", "Settings", "load_settings", "read_env_file"]

SANDBOX_HINT = (
    "No VTEX account is configured. Set VTEX_ACCOUNT_NAME, VTEX_APP_KEY and VTEX_APP_TOKEN (in the environment or "
    "a .env file), or try refundkit without an account: run `refundkit sandbox` in another terminal and export the "
    "variables it prints, or run `refundkit demo`."
)


class Secret:
    """A string that will not show itself: ``repr`` and ``str`` print ``Secret('****')``."""

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The real value, for the one place that needs it: the request header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self

    def __reduce__(self) -> str:  # keep pickles (e.g. multiprocessing) from carrying the token by accident
        raise TypeError("a Secret cannot be pickled")


_ACCOUNT_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$", re.IGNORECASE)
_ENTITY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,59}$")
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def _extra_sources(text: str | None) -> tuple[str, ...]:
    """``REFUNDKIT_EXTRA_SOURCES``: names normalised as the ledger normalises a source (lower case, dashes)."""
    out: list[str] = []
    for raw in (text or "").split(","):
        name = raw.strip().lower().replace("_", "-").replace(" ", "-")
        if not name:
            continue
        if not _SOURCE_RE.match(name):
            raise ConfigError(
                f"REFUNDKIT_EXTRA_SOURCES: {raw.strip()!r} is not a source name; use letters, digits and dashes, "
                "names separated by commas (pix-manual,voucher)"
            )
        if name not in out:
            out.append(name)
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    account: str | None = None
    app_key: str | None = None
    app_token: Secret | None = field(default=None, repr=True)
    environment: str = "vtexcommercestable"
    base_url: str | None = None
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "refundkit")
    entity: str = "offlineRefund"
    user: str = "unknown"
    extra_sources: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.account and self.app_key and self.app_token)

    def require_account(self) -> Settings:
        """Raise :class:`ConfigError` with the how-to unless an account and credentials are set."""
        missing = [
            n
            for n, v in (
                ("VTEX_ACCOUNT_NAME", self.account),
                ("VTEX_APP_KEY", self.app_key),
                ("VTEX_APP_TOKEN", self.app_token),
            )
            if not v
        ]
        if len(missing) == 3:
            raise ConfigError(SANDBOX_HINT)
        if missing:
            raise ConfigError(f"{', '.join(missing)} not set. " + SANDBOX_HINT)
        return self

    @property
    def vtex_url(self) -> str:
        """Base URL for OMS, Master Data and Do."""
        if self.base_url:
            return self.base_url.rstrip("/")
        if not self.account:
            raise ConfigError(SANDBOX_HINT)
        return f"https://{self.account}.{self.environment}.com.br"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file with python-dotenv's parser (``export`` prefix, quotes and ``#`` comments allowed).

    Unlike python-dotenv's loaders, a line that is not ``KEY=value`` is an error naming the file and line (never
    echoing the line: it may be a pasted token), and nothing is interpolated.
    """
    out: dict[str, str] = {}
    with path.open(encoding="utf-8-sig") as stream:
        for binding in parse_stream(stream):
            key, value = binding.key, binding.value
            if key is None and not binding.error:
                continue  # a blank line or a comment
            if binding.error or key is None or value is None or not _KEY_RE.fullmatch(key):
                text = binding.original.string  # may start with the blank lines before it
                line = binding.original.line + len(text) - len(text.lstrip("\n"))
                raise ConfigError(f"{path}:{line}: expected KEY=value")
            out[key] = value
    return out


def _find_env_file(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


def load_settings(env: dict[str, str] | None = None, env_file: Path | bool | None = True) -> Settings:
    """Build :class:`Settings` from ``env`` (default ``os.environ``) over the ``.env`` file.

    ``env_file=True`` looks for ``.env`` from the current folder upwards; a path reads that file; ``False`` none.
    """
    values: dict[str, str] = {}
    if env_file is True:
        found = _find_env_file(Path.cwd())
        if found:
            values.update(read_env_file(found))
    elif env_file:
        values.update(read_env_file(Path(env_file)))
    values.update(os.environ if env is None else env)

    def get(name: str) -> str | None:
        v = values.get(name, "").strip()
        return v or None

    account = get("VTEX_ACCOUNT_NAME")
    if account and not _ACCOUNT_RE.match(account):
        raise ConfigError(f"VTEX_ACCOUNT_NAME {account!r} is not an account name: letters, digits and dashes only")
    base_url = get("VTEX_BASE_URL")
    if base_url and not re.match(r"^https?://[^/\s]+", base_url):
        raise ConfigError(f"VTEX_BASE_URL {base_url!r} must start with http:// or https:// and name a host")
    entity = get("REFUNDKIT_ENTITY") or "offlineRefund"
    if not _ENTITY_RE.match(entity):
        raise ConfigError(f"REFUNDKIT_ENTITY {entity!r}: use 3-60 letters, digits or _, starting with a letter")
    token = get("VTEX_APP_TOKEN")
    cache = get("REFUNDKIT_CACHE_DIR")
    try:
        default_user = getpass.getuser()
    except Exception:  # no user database entry (containers)
        default_user = "unknown"
    return Settings(
        account=account,
        app_key=get("VTEX_APP_KEY"),
        app_token=Secret(token) if token else None,
        environment=get("VTEX_ENVIRONMENT") or "vtexcommercestable",
        base_url=base_url,
        cache_dir=Path(cache).expanduser() if cache else Path.home() / ".cache" / "refundkit",
        entity=entity,
        user=get("REFUNDKIT_USER") or default_user,
        extra_sources=_extra_sources(get("REFUNDKIT_EXTRA_SOURCES")),
    )
