"""refundkit.toml: several accounts, each chosen by name; a token in the file refused; environment-only
configuration unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from refundkit.config import Secret, load_settings
from refundkit.errors import ConfigError
from refundkit.testing import run_cli

TOKEN = "SECRET-TOKEN-value-0123456789abcdef"
TWO = """
[accounts.br]
account = "lojabr"
app_key = "vtexappkey-lojabr-ABCDEF"
app_token_env = "LOJABR_VTEX_TOKEN"   # the token itself is never in the file
base_url = "http://127.0.0.1:8765"
entity = "RFbr"
tz = "America/Sao_Paulo"

[accounts.ar]
account = "lojaar"
app_key = "vtexappkey-lojaar-ABCDEF"
app_token_env = "LOJAAR_VTEX_TOKEN"
"""
ENV_ONLY = {"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "vtexappkey-acme-ABC", "VTEX_APP_TOKEN": TOKEN}


def write(folder: Path, text: str) -> Path:
    path = folder / "refundkit.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- refundkit.toml ------------------------------------------------------------------------------------------------
def test_an_account_of_the_file_takes_its_settings_and_its_token_from_the_variable_the_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, TWO)
    monkeypatch.chdir(tmp_path)
    env = {**ENV_ONLY, "LOJABR_VTEX_TOKEN": TOKEN}  # VTEX_* set too: a named account does not read them
    s = load_settings(env=env, env_file=False, account="br")
    assert (s.name, s.account, s.app_key, s.entity, s.store_tz) == (
        "br",
        "lojabr",
        "vtexappkey-lojabr-ABCDEF",
        "RFbr",
        "America/Sao_Paulo",
    )
    assert s.app_token == Secret(TOKEN) and s.base_url == "http://127.0.0.1:8765" and s.configured
    ar = load_settings(env=env, env_file=False, account="ar")
    assert (ar.account, ar.entity, ar.base_url, ar.configured) == ("lojaar", "offlineRefund", None, False)
    with pytest.raises(ConfigError) as err:
        ar.require_account()
    assert "LOJAAR_VTEX_TOKEN is not set" in str(err.value)
    # REFUNDKIT_ACCOUNT is the default; a name the file lacks is refused with the names it has
    assert load_settings(env={"REFUNDKIT_ACCOUNT": "ar"}, env_file=False).account == "lojaar"
    with pytest.raises(ConfigError) as err:
        load_settings(env={}, env_file=False, account="cl")
    assert "'cl' is not in refundkit.toml" in str(err.value) and "ar, br" in str(err.value)
    # several accounts and none chosen: nothing is configured, and the how-to says to choose
    none = load_settings(env={}, env_file=False)
    assert not none.configured and none.choices == ("br", "ar")
    with pytest.raises(ConfigError, match="choose one with --account NAME"):
        none.require_account()


@pytest.mark.parametrize(
    "line",
    [
        f'app_token = "{TOKEN}"',
        f'token = "{TOKEN}"',
        f'app_token_env = "{TOKEN.upper().replace("-", "")}{"X" * 40}"',  # the token pasted where its variable goes
    ],
    ids=["app_token", "token", "token-as-variable"],
)
def test_a_token_in_the_file_is_refused_in_one_line_that_never_shows_it(tmp_path: Path, line: str) -> None:
    text = TWO.replace('app_token_env = "LOJAAR_VTEX_TOKEN"', line + '\napp_token_env = "LOJAAR_VTEX_TOKEN"')
    if line.startswith("app_token_env"):
        text = TWO.replace('app_token_env = "LOJAAR_VTEX_TOKEN"', line)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(env={"REFUNDKIT_CONFIG": str(path)}, env_file=False, account="br")
    message = str(err.value)
    assert "[accounts.ar]" in message and "\n" not in message
    assert ("never the token itself" if line.startswith("app_token_env") else "holds a token") in message
    assert TOKEN not in message and TOKEN.upper().replace("-", "") not in message
    env = {"PATH": os.environ.get("PATH", ""), "REFUNDKIT_CONFIG": str(path), "REFUNDKIT_ACCOUNT": "br"}
    result = run_cli(["quote", "1234567890123-01"], env, tmp_path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert TOKEN not in result.stderr + result.stdout and TOKEN.upper().replace("-", "") not in result.stderr


def test_environment_only_configuration_is_unchanged_without_a_file_and_wins_over_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no file in the user config folder either
    s = load_settings(env=ENV_ONLY, env_file=False)
    assert (s.name, s.account, s.token_env, s.choices, s.configured) == (None, "acme", "VTEX_APP_TOKEN", (), True)
    assert s.vtex_url == "https://acme.vtexcommercestable.com.br"
    # --account naming the environment's account works without a file
    assert load_settings(env=ENV_ONLY, env_file=False, account="acme") == s
    write(tmp_path, TWO)  # a file appears: with no name chosen, VTEX_ACCOUNT_NAME still wins
    assert load_settings(env=ENV_ONLY, env_file=False) == s


def test_the_file_in_the_user_config_folder_is_read_when_the_folder_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, config = tmp_path / "here", tmp_path / "config"
    here.mkdir()
    (config / "refundkit").mkdir(parents=True)
    write(config / "refundkit", TWO.replace("[accounts.ar]", "[accounts.cl]"))
    monkeypatch.chdir(here)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    assert load_settings(env={}, env_file=False).choices == ("br", "cl")
    write(here, TWO)  # the current folder's file comes first
    assert load_settings(env={}, env_file=False).choices == ("br", "ar")


def test_two_entries_for_one_vtex_account_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, TWO.replace('account = "lojaar"', 'account = "lojabr"'))
    with pytest.raises(ConfigError, match=r"as \[accounts.br\] does"):
        load_settings(env={"REFUNDKIT_CONFIG": str(path)}, env_file=False, account="br")
