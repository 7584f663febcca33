"""Settings from the environment and a .env file; clear ConfigErrors; the app token never shows itself."""

from __future__ import annotations

import copy
import logging
import pickle
from pathlib import Path

import pytest

from refundkit.config import SANDBOX_HINT, Secret, Settings, load_settings, read_env_file
from refundkit.errors import ConfigError

TOKEN = "SECRET-TOKEN-value-0123456789abcdef"
FULL = {"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "vtexappkey-acme-ABC", "VTEX_APP_TOKEN": TOKEN}


def test_settings_from_the_environment() -> None:
    s = load_settings(
        env={**FULL, "REFUNDKIT_ENTITY": "myRefunds", "REFUNDKIT_USER": "ana", "REFUNDKIT_CACHE_DIR": "/tmp/rk-cache"},
        env_file=False,
    )
    assert (s.account, s.app_key, s.entity, s.user) == ("acme", "vtexappkey-acme-ABC", "myRefunds", "ana")
    assert s.app_token == Secret(TOKEN) and s.app_token.reveal() == TOKEN
    assert s.cache_dir == Path("/tmp/rk-cache")
    assert s.configured
    assert s.vtex_url == "https://acme.vtexcommercestable.com.br"


def test_defaults() -> None:
    s = load_settings(env={}, env_file=False)
    assert not s.configured
    assert (s.account, s.app_key, s.app_token, s.base_url) == (None, None, None, None)
    assert s.environment == "vtexcommercestable" and s.entity == "offlineRefund"
    assert s.cache_dir == Path.home() / ".cache" / "refundkit"
    assert s.user


def test_base_url_and_environment_change_the_host() -> None:
    s = load_settings(env={**FULL, "VTEX_BASE_URL": "http://127.0.0.1:8765/"}, env_file=False)
    assert s.vtex_url == "http://127.0.0.1:8765"
    s = load_settings(env={**FULL, "VTEX_ENVIRONMENT": "myvtex"}, env_file=False)
    assert s.vtex_url == "https://acme.myvtex.com.br"


def test_blank_values_count_as_unset_and_spaces_are_trimmed() -> None:
    s = load_settings(env={"VTEX_ACCOUNT_NAME": "  acme ", "VTEX_APP_KEY": "", "VTEX_APP_TOKEN": "   "}, env_file=False)
    assert s.account == "acme" and s.app_key is None and s.app_token is None


def test_the_cache_dir_expands_home() -> None:
    s = load_settings(env={"REFUNDKIT_CACHE_DIR": "~/rk"}, env_file=False)
    assert s.cache_dir == Path.home() / "rk"


def test_extra_sources_are_read_as_the_ledger_spells_sources() -> None:
    s = load_settings(env={"REFUNDKIT_EXTRA_SOURCES": " PIX Manual, voucher,,pix_manual "}, env_file=False)
    assert s.extra_sources == ("pix-manual", "voucher")
    assert load_settings(env={}, env_file=False).extra_sources == ()


@pytest.mark.parametrize("value", ["pix/manual", "-pix", "x" * 41])
def test_a_bad_extra_source_says_what_to_type(value: str) -> None:
    with pytest.raises(ConfigError, match=r"REFUNDKIT_EXTRA_SOURCES.*letters, digits and dashes"):
        load_settings(env={"REFUNDKIT_EXTRA_SOURCES": f"voucher,{value}"}, env_file=False)


# -- .env -------------------------------------------------------------------------------------------------------------
def write_env(folder: Path, text: str) -> Path:
    path = folder / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_dot_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    path = write_env(
        tmp_path,
        "VTEX_ACCOUNT_NAME=fromfile\nVTEX_APP_KEY=key-from-file\n"
        f"VTEX_APP_TOKEN={TOKEN}\nREFUNDKIT_ENTITY=fileEntity\n",
    )
    s = load_settings(env={"VTEX_ACCOUNT_NAME": "fromenv"}, env_file=path)
    assert s.account == "fromenv"  # the environment wins
    assert s.app_key == "key-from-file" and s.entity == "fileEntity"
    assert s.app_token is not None and s.app_token.reveal() == TOKEN


def test_the_dot_env_is_found_in_the_current_folder_or_a_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, "VTEX_ACCOUNT_NAME=parentshop\n")
    nested = tmp_path / "notebooks" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert load_settings(env={}).account == "parentshop"
    assert load_settings(env={}, env_file=False).account is None
    monkeypatch.setenv("VTEX_ACCOUNT_NAME", "processenv")
    assert load_settings().account == "processenv"  # os.environ over .env


def test_env_file_syntax(tmp_path: Path) -> None:
    path = tmp_path / "x.env"
    path.write_text(
        "\ufeff# refundkit settings\n"
        "\n"
        "export VTEX_ACCOUNT_NAME=acme\n"
        "VTEX_APP_KEY = 'vtexappkey-acme-ABC'\n"
        f'VTEX_APP_TOKEN="{TOKEN} # not a comment"\n'
        "REFUNDKIT_USER=ana # who records\n"
        "EMPTY=\n",
        encoding="utf-8",
    )
    values = read_env_file(path)
    assert values == {
        "VTEX_ACCOUNT_NAME": "acme",
        "VTEX_APP_KEY": "vtexappkey-acme-ABC",
        "VTEX_APP_TOKEN": f"{TOKEN} # not a comment",
        "REFUNDKIT_USER": "ana",
        "EMPTY": "",
    }


@pytest.mark.parametrize("line", ["just words", "=value", "1ABC=x", "MY-KEY=x"])
def test_a_malformed_env_line_names_the_file_and_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / ".env"
    path.write_text(f"VTEX_ACCOUNT_NAME=acme\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_env_file(path)
    assert f"{path}:2" in str(err.value) and "KEY=value" in str(err.value)


def test_a_malformed_env_line_never_echoes_a_token(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(f"{TOKEN}\n", encoding="utf-8")  # pasted without a name
    with pytest.raises(ConfigError) as err:
        load_settings(env={}, env_file=path)
    assert TOKEN not in str(err.value)


# -- invalid values ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["acme.vtexcommercestable.com.br", "ftp://acme.com", "http://", "https:// x", "127.0.0.1:8765", "//acme.com"]
)
def test_an_invalid_base_url_is_a_clear_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={**FULL, "VTEX_BASE_URL": url}, env_file=False)
    msg = str(err.value)
    assert "VTEX_BASE_URL" in msg and "http:// or https://" in msg and repr(url) in msg


@pytest.mark.parametrize(
    "account",
    ["my store", "acme.com", "-acme", "acme_shop", "açme", "a" * 64, "https://acme.vtexcommercestable.com.br"],
)
def test_an_invalid_account_name_is_a_clear_config_error(account: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={**FULL, "VTEX_ACCOUNT_NAME": account}, env_file=False)
    msg = str(err.value)
    assert "VTEX_ACCOUNT_NAME" in msg and "letters, digits and dashes" in msg


@pytest.mark.parametrize("account", ["acme", "ACME", "acme-store", "store2", "a" * 63])
def test_valid_account_names(account: str) -> None:
    assert load_settings(env={**FULL, "VTEX_ACCOUNT_NAME": account}, env_file=False).account == account


@pytest.mark.parametrize("entity", ["ab", "1abc", "my-entity", "x" * 61])
def test_an_invalid_entity_is_a_clear_config_error(entity: str) -> None:
    with pytest.raises(ConfigError, match="REFUNDKIT_ENTITY"):
        load_settings(env={**FULL, "REFUNDKIT_ENTITY": entity}, env_file=False)


def test_no_account_says_how_to_configure_or_start_the_demo() -> None:
    s = load_settings(env={}, env_file=False)
    with pytest.raises(ConfigError) as err:
        s.require_account()
    msg = str(err.value)
    assert msg == SANDBOX_HINT
    for words in ("VTEX_ACCOUNT_NAME", "VTEX_APP_KEY", "VTEX_APP_TOKEN", ".env", "refundkit sandbox", "refundkit demo"):
        assert words in msg
    with pytest.raises(ConfigError):
        _ = s.vtex_url


def test_a_partial_configuration_names_what_is_missing() -> None:
    s = load_settings(env={"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "k"}, env_file=False)
    with pytest.raises(ConfigError) as err:
        s.require_account()
    assert str(err.value).startswith("VTEX_APP_TOKEN not set")
    assert load_settings(env=FULL, env_file=False).require_account().account == "acme"


# -- the secret ------------------------------------------------------------------------------------------------------
def test_secret_redacts_itself_everywhere() -> None:
    s = Secret(TOKEN)
    for text in (repr(s), str(s), f"{s}", f"{s!r}", f"{s:>40}", f"{s}", f"{s}", str([s]), str({"t": s})):
        assert TOKEN not in text
    assert repr(s) == "Secret('****')"
    assert s.reveal() == TOKEN


def test_secret_compares_hashes_and_is_truthy_without_showing_itself() -> None:
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b") and Secret("a") != "a"
    assert hash(Secret("a")) == hash(Secret("a"))
    assert Secret("x") and not Secret("")


def test_secret_is_immutable_and_cannot_be_pickled() -> None:
    s = Secret(TOKEN)
    with pytest.raises(AttributeError):
        s._value = "other"  # type: ignore[misc]  # assigning to a frozen field on purpose
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(s)
    assert copy.deepcopy(s) is s and copy.copy(s) is s  # copies share the one value; nothing is serialised
    settings = load_settings(env=FULL, env_file=False)
    assert copy.deepcopy(settings).app_token == settings.app_token


def test_settings_repr_and_logging_never_show_the_token(caplog: pytest.LogCaptureFixture) -> None:
    s = load_settings(env={**FULL, "VTEX_BASE_URL": "http://127.0.0.1:1"}, env_file=False)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("refundkit.test").debug("settings: %s %r", s, s)
    for text in (repr(s), str(s), f"{s}", caplog.text, repr(s.with_(user="other"))):
        assert TOKEN not in text
    assert "Secret('****')" in repr(s)


def test_settings_are_frozen_and_with_makes_a_copy() -> None:
    s = Settings(account="acme")
    with pytest.raises(AttributeError):
        s.account = "other"  # type: ignore[misc]  # assigning to a frozen field on purpose
    t = s.with_(account="other")
    assert (s.account, t.account) == ("acme", "other")


def test_demo_true_refuses_a_server_on_this_machine_that_is_not_the_sandbox(tmp_path: Path) -> None:
    import refundkit
    from refundkit.testing import serve, small_config

    # a server on 127.0.0.1 that answers as VTEX does (no sandbox header): a proxy or tunnel to a merchant's account
    with serve(small_config(announce=False), cache_dir=tmp_path) as proxy:
        settings = load_settings(env=proxy.env(), env_file=False)
        with pytest.raises(ConfigError, match="real VTEX account"):
            refundkit.connect(demo=True, settings=settings)
        with refundkit.connect(settings=settings) as rk:
            assert not rk.is_sandbox
        assert not [r for r in list(proxy.sb.requests) if r.method != "GET"], "connect() set up a real account"


def test_the_pii_architecture_setting_is_off_unless_turned_on() -> None:
    assert load_settings(env={}, env_file=False).pii_architecture is False
    assert load_settings(env={"REFUNDKIT_PII_ARCHITECTURE": "ON"}, env_file=False).pii_architecture is True
    assert load_settings(env={"REFUNDKIT_PII_ARCHITECTURE": "off"}, env_file=False).pii_architecture is False
    with pytest.raises(ConfigError, match="REFUNDKIT_PII_ARCHITECTURE 'yes': use 'on'"):
        load_settings(env={"REFUNDKIT_PII_ARCHITECTURE": "yes"}, env_file=False)
