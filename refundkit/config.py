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
``REFUNDKIT_CALL_DEADLINE_S``    overall deadline of one VTEX call, retries and waits included; default 300
``REFUNDKIT_MAX_RETRY_AFTER_S``  the longest ``Retry-After`` honoured (a longer one is cut to this); default 120
``REFUNDKIT_ZERO_DECIMAL_AMOUNTS`` how VTEX sends amounts of zero-decimal currencies (CLP, JPY, PYG…): ``cents``
                       (x100, what VTEX's specs say of every amount; default) or ``units`` (whole pesos/yen)
``REFUNDKIT_GATEWAY_REFUNDS``  ``check`` (default): read each quoted order's payment transaction (GET only, needs
                       View Payment Data) for refunds made there without a return invoice; ``off``: don't
``REFUNDKIT_NOTE_LEASE_S`` how long a note being posted (claimed by a reconcile run, or posted with its answer lost)
                       is left alone by others: longer than VTEX's notes list may lag behind a post; default 120
``REFUNDKIT_APP_TOKEN`` the login token of ``refundkit app`` (a :class:`Secret`); default a new random one at each
                       start
``REFUNDKIT_STORE_TZ`` the store's time zone (IANA, such as ``America/Sao_Paulo``): what a refunded-at date without
                       a time means; default the zone VTEX gives on each order (``storePreferencesData.timeZone``)
``REFUNDKIT_STORE_LOCALE`` the store's locale (such as ``pt-BR``, ``en-US``): how its people write dates, so how a
                       CSV whose every date reads both ways (``01/02/2026``) is read by ``refundkit import``; default
                       none (such a file is refused until ``--date-format`` says which)
``REFUNDKIT_ADMIN_ORDER_URL`` the address of an order's page in the account's VTEX Admin, which the desk's drill-down
                       links each order to: ``{account}`` and ``{order_id}`` are filled in; default
                       ``https://{account}.myvtex.com/admin/orders/{order_id}`` (VTEX documents no such address)
``REFUNDKIT_ACCOUNT``  which account of ``refundkit.toml`` to use when none is named (``--account NAME``)
``REFUNDKIT_CONFIG``   the ``refundkit.toml`` to read, instead of looking for one (below)
``REFUNDKIT_PII_ARCHITECTURE`` ``on``: the account is on VTEX's PII data architecture, so orders are read through
                       ``GET /api/orders/pvt/document/{id}`` and ``POST /api/orders/extendsearch/orders``;
                       ``off`` (default): the classic OMS endpoints. ``refundkit doctor`` tells which one it is
=====================  =====================================================================================

A base URL is a scheme, a host and a port, nothing more: a path, query, fragment or user name in it is refused
before any call is made (refundkit appends its own paths, and a path prefix could turn a harmless call into another).

Environment variables win over the ``.env`` file, which is read (with python-dotenv's parser) from the current folder
or the nearest parent.

Several accounts (one per country, a marketplace and its franchises) are named in ``refundkit.toml``, found in the
current folder, else in the user's config folder (``platformdirs``)::

    [accounts.br]
    account = "lojabr"
    app_key = "vtexappkey-lojabr-ABCDEF"
    app_token_env = "LOJABR_VTEX_TOKEN"   # the token itself is never in the file
    base_url = "https://lojabr.vtexcommercestable.com.br"   # optional, as VTEX_BASE_URL
    environment = "vtexcommercestable"                       # optional, as VTEX_ENVIRONMENT
    entity = "RF"                                            # optional, as REFUNDKIT_ENTITY
    tz = "America/Sao_Paulo"                                 # optional, as REFUNDKIT_STORE_TZ

An account is chosen by name (``--account br``, ``connect(account="br")``, ``REFUNDKIT_ACCOUNT``); its settings come
from its entry, and the ``VTEX_*`` variables are not read for it. With no name: ``VTEX_ACCOUNT_NAME`` in the
environment wins, exactly as without a file; else a file with one account means that account. Each account's local
files (order store, verdicts, journal) are kept under the cache dir by its VTEX account name, where a single
account's always were, so the file names each VTEX account once.
"""

from __future__ import annotations

import getpass
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .textsafety import control_problem
from .timeutil import zone

__all__ = [
    "CONFIG_FILE",
    "SANDBOX_HEADER",
    "SANDBOX_HINT",
    "AccountEntry",
    "Secret",
    "Settings",
    "check_base_url",
    "config_file",
    "load_settings",
    "read_accounts",
    "read_env_file",
]

#: The file that names several accounts: in the current folder, else in the user's config folder.
CONFIG_FILE = "refundkit.toml"

#: The header refundkit's sandbox sends with every answer. A server on this machine that sends it is the sandbox,
#: not a proxy in front of a real account, so the client's pacing may start fast (refundkit.vtex.limiter).
SANDBOX_HEADER = "X-Refundkit-Sandbox"

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

    def __reduce__(self) -> str:  # pickles (multiprocessing) must not carry the token by accident
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


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_RE = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")
ZERO_DECIMAL_MODES = ("cents", "units")


def check_base_url(raw: str, name: str = "VTEX_BASE_URL") -> str:
    """``scheme://host[:port]`` from ``raw``, or :class:`ConfigError` saying what to fix.

    Only ``http``/``https``, a host name or IP address and an optional port are accepted; a path (other than a
    lone ``/``), a query, a fragment, a user name or password, spaces and control characters are refused.
    """
    form = "a base URL is http:// or https://, a host and an optional port, such as http://127.0.0.1:8765"
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{name} is empty: {form}")
    if "@" in raw:  # checked first, and the value is not shown: it may hold a password
        raise ConfigError(f"{name} must not contain a user name or password (put them in VTEX_APP_KEY/TOKEN): {form}")
    shown = raw if len(raw) <= 80 else raw[:77] + "..."

    def bad(why: str) -> ConfigError:
        return ConfigError(f"{name} {shown!r} {why}: {form}")

    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in raw):
        raise bad("contains a space or a control character")
    if not raw.isascii():
        raise bad("contains non-ASCII characters (write the host in punycode)")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise bad(f"is not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise bad("does not start with http:// or https://")
    if parts.path not in ("", "/") or ";" in raw:
        raise bad("has a path (refundkit adds the /api/... paths itself)")
    if parts.query or "?" in raw:
        raise bad("has a query (?...)")
    if parts.fragment or "#" in raw:
        raise bad("has a fragment (#...)")
    host = parts.hostname or ""
    if not host:
        raise bad("names no host")
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad(f"names {host!r}, which is not an IPv6 address") from None
    elif not _HOST_RE.match(host):
        raise bad(f"names {host!r}, which is not a host name (letters, digits, dots and dashes)")
    if port is not None and not 0 < port < 65536:
        raise bad("has a port outside 1-65535")
    netloc = f"[{host}]" if parts.netloc.startswith("[") else host
    return f"{parts.scheme.lower()}://{netloc}" + (f":{port}" if port is not None else "")


def _check_header_value(value: str | None, name: str, show: bool) -> None:
    """Credentials travel in HTTP headers: printable ASCII only. Never echoes a secret."""
    if value is None:
        return
    bad = next((i for i, c in enumerate(value) if not (32 < ord(c) < 127)), None)
    if bad is not None:
        what = f"{value[bad]!r} at position {bad + 1}" if show else f"a character at position {bad + 1}"
        raise ConfigError(
            f"{name} contains {what} that cannot travel in an HTTP header (only printable ASCII, no spaces); "
            "copy it again from VTEX's License Manager"
        )


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
    call_deadline_s: float = 300.0
    max_retry_after_s: float = 120.0
    zero_decimal_amounts: str = "cents"
    check_gateway: bool = True
    store_tz: str | None = None
    store_locale: str | None = None
    note_lease_s: float = 120.0
    pii_architecture: bool = False
    #: an order's page in the VTEX Admin (``REFUNDKIT_ADMIN_ORDER_URL``; None: :data:`ADMIN_ORDER_URL`)
    admin_order_url: str | None = None
    desk_token: Secret | None = field(default=None, repr=True)
    #: the account's name in ``refundkit.toml`` (``br``); None when configured by the ``VTEX_*`` variables
    name: str | None = None
    #: the variable that holds the app token (an account's ``app_token_env``), named in messages
    token_env: str = "VTEX_APP_TOKEN"  # noqa: S105 - a variable's name, not a password
    #: the names ``refundkit.toml`` offers when none was chosen and the file has several (nothing is configured)
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.base_url is not None:
            object.__setattr__(self, "base_url", check_base_url(self.base_url))
        if self.environment and not _ACCOUNT_RE.match(self.environment):
            raise ConfigError(f"VTEX_ENVIRONMENT {self.environment[:40]!r}: letters, digits and dashes only")
        _check_header_value(self.app_key, "VTEX_APP_KEY", show=True)
        _check_header_value(self.app_token.reveal() if self.app_token else None, self.token_env, show=False)
        if self.zero_decimal_amounts not in ZERO_DECIMAL_MODES:
            raise ConfigError(
                f"REFUNDKIT_ZERO_DECIMAL_AMOUNTS {self.zero_decimal_amounts!r}: use 'cents' (VTEX sends CLP 1.500 as "
                "150000, as its specs say of every amount) or 'units' (as 1500)"
            )
        for name, value in (
            ("REFUNDKIT_CALL_DEADLINE_S", self.call_deadline_s),
            ("REFUNDKIT_MAX_RETRY_AFTER_S", self.max_retry_after_s),
        ):
            if not 0 < value <= 86_400:
                raise ConfigError(f"{name} must be a number of seconds between 0 and 86400, got {value}")

    @property
    def configured(self) -> bool:
        return bool(self.account and self.app_key and self.app_token)

    def require_account(self) -> Settings:
        """Raise :class:`ConfigError` with the how-to unless an account and credentials are set."""
        if self.choices and not self.configured:
            raise ConfigError(
                f"{CONFIG_FILE} names {len(self.choices)} accounts ({', '.join(self.choices)}): choose one with "
                "--account NAME (or REFUNDKIT_ACCOUNT=NAME)"
            )
        if self.name is not None and self.app_token is None:
            raise ConfigError(
                f"account {self.name}: {self.token_env} is not set; export it with the account's app token "
                f"({CONFIG_FILE} names the variable, never the token)"
            )
        missing = [
            n
            for n, v in (
                ("VTEX_ACCOUNT_NAME", self.account),
                ("VTEX_APP_KEY", self.app_key),
                (self.token_env, self.app_token),
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

    @property
    def payments_url(self) -> str:
        """Base URL of the Payments Gateway (read only: refundkit GETs transactions and nothing else there).
        ``VTEX_BASE_URL``, when set, serves it too (the sandbox, a proxy)."""
        if self.base_url:
            return self.base_url.rstrip("/")
        if not self.account:
            raise ConfigError(SANDBOX_HINT)
        return f"https://{self.account}.vtexpayments.com.br"

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file with python-dotenv's parser (``export`` prefix, quotes and ``#`` comments allowed).

    Unlike python-dotenv's loaders, a line that is not ``KEY=value`` is an error naming the file and line (never
    echoing the line: it may be a pasted token), and nothing is interpolated.
    """
    from dotenv.parser import parse_stream  # noqa: PLC0415  (only where a .env file is read: loads when used)

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


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_ENTRY_KEYS = ("account", "app_key", "app_token_env", "base_url", "environment", "entity", "tz")
_TOKEN_KEYS = ("app_token", "token", "vtex_app_token", "apptoken")


@dataclass(frozen=True)
class AccountEntry:
    """One ``[accounts.NAME]`` table of ``refundkit.toml``: where the account is and which variable holds its token."""

    name: str
    account: str
    app_key: str
    app_token_env: str
    base_url: str | None = None
    environment: str | None = None
    entity: str | None = None
    tz: str | None = None

    def token_present(self, env: dict[str, str] | None = None) -> bool:
        """Whether the token's variable is set (its value is never looked at beyond that)."""
        return bool((os.environ if env is None else env).get(self.app_token_env, "").strip())


def config_file(env: dict[str, str] | None = None, cwd: Path | None = None) -> Path | None:
    """The ``refundkit.toml`` in use: ``REFUNDKIT_CONFIG``, else the current folder's, else the user config folder's."""
    values = os.environ if env is None else env
    named = values.get("REFUNDKIT_CONFIG", "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError(f"REFUNDKIT_CONFIG names {named[:200]!r}, which is not a file")
        return path
    here = (cwd or Path.cwd()) / CONFIG_FILE
    if here.is_file():
        return here
    from platformdirs import user_config_path  # noqa: PLC0415 - only when no file is in the current folder

    home = user_config_path("refundkit") / CONFIG_FILE
    return home if home.is_file() else None


def read_accounts(path: Path) -> dict[str, AccountEntry]:
    """The accounts of ``path``, by name, or :class:`ConfigError` in one line naming the file and what to fix.

    A token written into the file is refused, and the line saying so never shows it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:  # its message gives the line and column, never the value
        raise ConfigError(f"{path}: not TOML: {str(exc)[:200]}") from None
    unknown = sorted(set(data) - {"accounts"})
    if unknown:
        raise ConfigError(f"{path}: unknown table or key {unknown[0][:40]!r}; accounts go in [accounts.NAME] tables")
    tables = data.get("accounts", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: accounts must be tables, such as [accounts.br]")
    out: dict[str, AccountEntry] = {}
    by_account: dict[str, str] = {}
    for name, table in tables.items():
        where = f"{path}: [accounts.{name[:40]}]"
        if not _NAME_RE.match(name):
            raise ConfigError(f"{where}: an account's name is letters, digits, _ and dashes (such as br)")
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table of account, app_key and app_token_env")
        for key in table:
            if key.lower() in _TOKEN_KEYS:  # the value is not shown: it is a token
                raise ConfigError(
                    f"{where} holds a token ({key[:40]}): remove it and name the variable that holds it instead, "
                    'such as app_token_env = "' + name.upper().replace("-", "_") + '_VTEX_TOKEN"'
                )
        extra = [k for k in table if k not in _ENTRY_KEYS]
        if extra:
            raise ConfigError(f"{where}: unknown key {extra[0][:40]!r}; known keys: {', '.join(_ENTRY_KEYS)}")
        values: dict[str, str] = {}
        for key, value in table.items():
            if not isinstance(value, str) or not value.strip():
                shown = "" if key == "app_token_env" else f" (got {str(value)[:40]!r})"
                raise ConfigError(f"{where}: {key} must be a non-empty text in quotes{shown}")
            values[key] = value.strip()
        missing = [k for k in ("account", "app_key", "app_token_env") if k not in values]
        if missing:
            raise ConfigError(f"{where}: {', '.join(missing)} missing")
        token_env = values["app_token_env"]
        if len(token_env) > 64 or not _KEY_RE.fullmatch(token_env):  # not shown: it may be a pasted token
            raise ConfigError(
                f"{where}: app_token_env names the environment variable that holds the token (such as "
                f"{name.upper().replace('-', '_')}_VTEX_TOKEN), never the token itself"
            )
        if not _ACCOUNT_RE.match(values["account"]):
            raise ConfigError(f"{where}: account {values['account'][:40]!r}: letters, digits and dashes only")
        if values["account"] in by_account:
            raise ConfigError(
                f"{where} names VTEX account {values['account']!r}, as [accounts.{by_account[values['account']]}] "
                "does: an account's store, verdicts and journal are kept by its VTEX name, so name each account once"
            )
        by_account[values["account"]] = name
        try:
            entry = AccountEntry(
                name=name,
                account=values["account"],
                app_key=values["app_key"],
                app_token_env=token_env,
                base_url=check_base_url(values["base_url"], "base_url") if "base_url" in values else None,
                environment=values.get("environment"),
                entity=values.get("entity"),
                tz=values.get("tz"),
            )
            _check_entry(entry)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        out[name] = entry
    return out


def _check_entry(entry: AccountEntry) -> None:
    if entry.environment and not _ACCOUNT_RE.match(entry.environment):
        raise ConfigError(f"environment {entry.environment[:40]!r}: letters, digits and dashes only")
    if entry.entity and not _ENTITY_RE.match(entry.entity):
        raise ConfigError(f"entity {entry.entity[:60]!r}: use 3-60 letters, digits or _, starting with a letter")
    if entry.tz:
        try:
            zone(entry.tz)
        except ValueError:
            raise ConfigError(
                f"tz {entry.tz[:60]!r} is not a time zone: use an IANA name such as America/Sao_Paulo"
            ) from None
    _check_header_value(entry.app_key, "app_key", show=True)


def load_accounts(env: dict[str, str] | None = None, path: Path | bool | None = True) -> dict[str, AccountEntry]:
    """The accounts ``refundkit.toml`` names (``path=True``: the file :func:`config_file` finds), by name; {} when
    there is no file."""
    found = config_file(env) if path is True else (Path(path) if path else None)
    return read_accounts(found) if found else {}


def load_settings(
    env: dict[str, str] | None = None,
    env_file: Path | bool | None = True,
    *,
    account: str | None = None,
    accounts_file: Path | bool | None = True,
) -> Settings:
    """Build :class:`Settings` from ``env`` (default ``os.environ``) over the ``.env`` file.

    ``env_file=True`` looks for ``.env`` from the current folder upwards; a path reads that file; ``False`` none.
    ``account`` names an account of ``refundkit.toml`` (default ``REFUNDKIT_ACCOUNT``); ``accounts_file`` is that
    file (``True``: the one :func:`config_file` finds; ``False``: none).
    """
    values: dict[str, str] = {}
    if env_file is True:
        found = _find_env_file(Path.cwd())
        if found:
            values.update(read_env_file(found))
    elif env_file:
        values.update(read_env_file(Path(env_file)))
    values.update(os.environ if env is None else env)
    entry, choices = _chosen_account(values, account, accounts_file)
    if entry is not None:  # the file's account: its entry, not the VTEX_* variables, says where and who it is
        for name in ("VTEX_ACCOUNT_NAME", "VTEX_APP_KEY", "VTEX_APP_TOKEN", "VTEX_BASE_URL", "VTEX_ENVIRONMENT"):
            values.pop(name, None)
        values.update(
            VTEX_ACCOUNT_NAME=entry.account,
            VTEX_APP_KEY=entry.app_key,
            VTEX_APP_TOKEN=values.get(entry.app_token_env, ""),
            VTEX_BASE_URL=entry.base_url or "",
            VTEX_ENVIRONMENT=entry.environment or "",
        )
        if entry.entity:
            values["REFUNDKIT_ENTITY"] = entry.entity
        if entry.tz:
            values["REFUNDKIT_STORE_TZ"] = entry.tz

    def get(name: str) -> str | None:
        v = values.get(name, "").strip()
        return v or None

    account = get("VTEX_ACCOUNT_NAME")
    if account and not _ACCOUNT_RE.match(account):
        raise ConfigError(f"VTEX_ACCOUNT_NAME {account!r} is not an account name: letters, digits and dashes only")
    base_url = get("VTEX_BASE_URL")
    if base_url:
        base_url = check_base_url(base_url)
    entity = get("REFUNDKIT_ENTITY") or "offlineRefund"
    if not _ENTITY_RE.match(entity):
        raise ConfigError(f"REFUNDKIT_ENTITY {entity!r}: use 3-60 letters, digits or _, starting with a letter")
    token = get("VTEX_APP_TOKEN")
    cache = get("REFUNDKIT_CACHE_DIR")
    store_tz = get("REFUNDKIT_STORE_TZ")
    if store_tz:
        try:
            zone(store_tz)
        except ValueError:
            raise ConfigError(
                f"REFUNDKIT_STORE_TZ {store_tz!r} is not a time zone: use an IANA name such as America/Sao_Paulo"
            ) from None
    store_locale = get("REFUNDKIT_STORE_LOCALE")
    if store_locale and not re.fullmatch(r"[A-Za-z]{2,3}(?:[-_](?:[A-Za-z]{2}|\d{3}))?", store_locale.strip()):
        raise ConfigError(
            f"REFUNDKIT_STORE_LOCALE {store_locale[:40]!r} is not a locale: use a language and region such as pt-BR"
        )
    try:
        default_user = getpass.getuser()
    except Exception:  # no user database entry (containers)
        default_user = "unknown"
    user = get("REFUNDKIT_USER")
    problem = control_problem("REFUNDKIT_USER", user) if user else None
    if problem:
        raise ConfigError(problem)

    def seconds(name: str, default: float) -> float:
        raw = get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} {raw[:40]!r} is not a number of seconds") from None
        if not 0 < value <= 86_400:
            raise ConfigError(f"{name} must be a number of seconds between 0 and 86400, got {raw[:40]}")
        return value

    gateway = (get("REFUNDKIT_GATEWAY_REFUNDS") or "check").lower()
    if gateway not in ("check", "off"):
        raise ConfigError(f"REFUNDKIT_GATEWAY_REFUNDS {gateway[:40]!r}: use 'check' or 'off'")
    pii = (get("REFUNDKIT_PII_ARCHITECTURE") or "off").lower()
    if pii not in ("on", "off"):
        raise ConfigError(
            f"REFUNDKIT_PII_ARCHITECTURE {pii[:40]!r}: use 'on' (the account is on VTEX's PII data architecture; "
            "`refundkit doctor` tells) or 'off'"
        )
    return Settings(
        account=account,
        app_key=get("VTEX_APP_KEY"),
        app_token=Secret(token) if token else None,
        environment=get("VTEX_ENVIRONMENT") or "vtexcommercestable",
        base_url=base_url,
        cache_dir=Path(cache).expanduser() if cache else Path.home() / ".cache" / "refundkit",
        entity=entity,
        user=user or default_user,
        extra_sources=_extra_sources(get("REFUNDKIT_EXTRA_SOURCES")),
        call_deadline_s=seconds("REFUNDKIT_CALL_DEADLINE_S", 300.0),
        max_retry_after_s=seconds("REFUNDKIT_MAX_RETRY_AFTER_S", 120.0),
        zero_decimal_amounts=(get("REFUNDKIT_ZERO_DECIMAL_AMOUNTS") or "cents").lower(),
        check_gateway=gateway == "check",
        store_tz=store_tz,
        store_locale=store_locale.strip() if store_locale else None,
        note_lease_s=_lease(get("REFUNDKIT_NOTE_LEASE_S")),
        pii_architecture=pii == "on",
        admin_order_url=check_admin_order_url(get("REFUNDKIT_ADMIN_ORDER_URL")),
        desk_token=Secret(desk_token) if (desk_token := get("REFUNDKIT_APP_TOKEN")) else None,
        name=entry.name if entry else None,
        token_env=entry.app_token_env if entry else "VTEX_APP_TOKEN",
        choices=choices,
    )


#: An order's page in the VTEX Admin, unless ``REFUNDKIT_ADMIN_ORDER_URL`` says otherwise. VTEX documents no address
#: for it (the Do spec's example note names the older ``/admin/checkout/#/orders/…`` page); this is the one its
#: Admin shows for an order's details.
ADMIN_ORDER_URL = "https://{account}.myvtex.com/admin/orders/{order_id}"


def check_admin_order_url(template: str | None) -> str | None:
    """``REFUNDKIT_ADMIN_ORDER_URL`` as given, or one line that says what to fix: an ``https://`` address with
    ``{order_id}`` in it (and ``{account}`` where the account's name goes), nothing else between braces."""
    if template is None:
        return None
    fields = set(re.findall(r"\{([^{}]*)\}", template))
    if not template.startswith("https://") or "{order_id}" not in template or not fields <= {"account", "order_id"}:
        raise ConfigError(
            f"REFUNDKIT_ADMIN_ORDER_URL {template[:80]!r}: give an https:// address with {{order_id}} where the "
            f"order's id goes (and {{account}} for the account's name), such as {ADMIN_ORDER_URL}"
        )
    return template


def _chosen_account(
    values: dict[str, str], account: str | None, accounts_file: Path | bool | None
) -> tuple[AccountEntry | None, tuple[str, ...]]:
    """The file's account to use, and the names to choose from when none is chosen among several.

    Without a name, ``VTEX_ACCOUNT_NAME`` wins (the file is not read: environment-only configuration is unchanged);
    else a file with one account means it. A name the file lacks is refused, unless there is no file and the name
    is ``VTEX_ACCOUNT_NAME``'s (``--account`` with environment-only configuration)."""
    name = (account or values.get("REFUNDKIT_ACCOUNT", "")).strip() or None
    env_account = values.get("VTEX_ACCOUNT_NAME", "").strip()
    if name is None and env_account:
        return None, ()
    entries = load_accounts(values, accounts_file)
    if name is None:
        if len(entries) == 1:
            return next(iter(entries.values())), ()
        return None, tuple(entries)
    if name in entries:
        return entries[name], ()
    if not entries and name == env_account:
        return None, ()
    if not entries:
        raise ConfigError(
            f"account {name[:40]!r}: no {CONFIG_FILE} names it (none in this folder or the user config folder), "
            f"and VTEX_ACCOUNT_NAME is {env_account[:40]!r}"
            if env_account
            else f"account {name[:40]!r}: no {CONFIG_FILE} found here or in the user config folder to name it"
        )
    raise ConfigError(f"account {name[:40]!r} is not in {CONFIG_FILE}; its accounts: {', '.join(sorted(entries))}")


def _lease(raw: str | None) -> float:
    if raw is None:
        return 120.0
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"REFUNDKIT_NOTE_LEASE_S {raw[:40]!r} is not a number of seconds") from None
    if not 0 <= value <= 86_400:
        raise ConfigError(f"REFUNDKIT_NOTE_LEASE_S must be between 0 and 86400 seconds, got {raw[:40]}")
    return value
