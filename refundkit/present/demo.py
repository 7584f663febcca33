"""``refundkit demo``: the sandbox, JupyterLab on working copies of the notebooks, and the refund desk app.

The notebooks JupyterLab opens are copies in ``.demo/notebooks`` (git-ignored) next to ``notebooks/``: JupyterLab
autosaves outputs and widget state into whatever it opens, and the committed notebooks must stay clean. A copy is
made when missing or when the committed notebook changed since it was copied (the old copy is kept as
``name.ipynb.bak``), so edits made in the demo survive a restart.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import load_settings
from ..errors import ConfigError
from ..ledger.verdict import forget_verdict
from ..session import connect
from .cli_app import new_token, start_app, stop_app, stop_on_terminate, stop_server, write_private

__all__ = ["lab_command", "run_demo", "working_copies", "write_lab_config"]

WORK_FOLDER = ".demo"
_STAMPS = ".copied-from.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def working_copies(notebooks: Path, work: Path) -> list[Path]:
    """Copy each ``notebooks/*.ipynb`` into ``work`` unless an up-to-date copy is there; return the copies."""
    work.mkdir(parents=True, exist_ok=True)
    stamps_path = work / _STAMPS
    try:
        stamps: dict[str, str] = json.loads(stamps_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamps = {}
    copies = []
    for source in sorted(notebooks.glob("*.ipynb")):
        target = work / source.name
        digest = _digest(source)
        if target.exists() and stamps.get(source.name) != digest:
            shutil.copyfile(target, target.with_name(target.name + ".bak"))  # the committed one changed
            target.unlink()
        if not target.exists():
            shutil.copyfile(source, target)
            stamps[source.name] = digest
        copies.append(target)
    stamps_path.write_text(json.dumps(stamps, indent=1), encoding="utf-8")
    return copies


def lab_command(root: Path, port: int, config_file: Path) -> list[str]:
    """JupyterLab's command line. Its token is in ``config_file`` (see :func:`write_lab_config`), never on this line,
    which every local user can list."""
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    if not jupyter:
        raise ConfigError("JupyterLab is not installed: run ./dev demo (or pip install -e '.[notebooks]')")
    cmd = [
        jupyter,
        "lab",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--config={config_file}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    cmd.append("--no-browser")  # the demo opens the browser itself, once the app answers too
    return cmd


#: JupyterLab settings the demo overrides: widget state is saved in the notebook with its outputs, so a notebook
#: reopened after its kernel is gone (a reload after a restart of the demo) shows its widgets as they were, instead of
#: "Error displaying widget: model not found" (and the same error in the browser's console) for each of them.
LAB_OVERRIDES = {"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True}}


def write_lab_config(folder: Path, token: str) -> Path:
    """JupyterLab's configuration with its login token, in a file only this user can read (replaced at each start),
    and the settings overrides (:data:`LAB_OVERRIDES`) in ``folder/lab-settings``."""
    settings = folder / "lab-settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=1), encoding="utf-8")
    path = folder / "jupyterlab-config.json"
    path.unlink(missing_ok=True)
    config = {"IdentityProvider": {"token": token}, "LabApp": {"app_settings_dir": str(settings)}}
    write_private(path, json.dumps(config))
    return path


def _open_browser(url: str, folder: Path) -> None:
    """Open ``url`` in the person's browser when the demo runs in a terminal (not in CI or a pipe). As JupyterLab
    does, through a page in ``folder`` readable by this user only, so that the token is not on a command line other
    users can list."""
    if not sys.stdout.isatty() or os.environ.get("CI"):
        return
    page = folder / "open-jupyterlab.html"
    page.unlink(missing_ok=True)
    write_private(
        page,
        f'<!DOCTYPE html><meta http-equiv="refresh" content="0;url={html.escape(url)}"><title>JupyterLab</title>\n',
    )
    webbrowser.open(page.resolve().as_uri())


def _wait_for_lab(proc: subprocess.Popen[Any], port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ConfigError(f"JupyterLab stopped while starting (is port {port} free? try --lab-port)")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise ConfigError(f"JupyterLab did not answer on port {port} within {timeout:.0f} s")


def _say(text: str = "") -> None:
    print(text, flush=True)


def run_demo(
    *,
    port: int,
    lab_port: int,
    app_port: int,
    no_lab: bool,
    notebooks: Path,
    env: Mapping[str, str] | None = None,
    accounts: int = 2,
) -> int:
    """Serve the sandbox (``accounts`` stores: two by default, so the desk, the notebooks and ``refundkit report
    --all-accounts`` show several accounts); unless ``no_lab``, start the app and JupyterLab on working copies;
    print every address."""
    from ..sandbox import SandboxConfig  # noqa: PLC0415 - only the demo loads the sandbox
    from ..sandbox.server import serve_accounts  # noqa: PLC0415 - as above

    stop_on_terminate()
    base_env = dict(os.environ if env is None else env)
    settings = load_settings(
        env={k: v for k, v in base_env.items() if not k.startswith("VTEX_") and k != "REFUNDKIT_ACCOUNT"},
        accounts_file=False,
    )
    config = SandboxConfig(search_lag_s=2.0, state_dir=settings.cache_dir / "sandbox")
    with serve_accounts(config, port, accounts) as served:
        variables = served.variables
        run_env = {**{k: v for k, v in base_env.items() if k != "REFUNDKIT_ACCOUNT"}, **variables}
        for sandbox, (name, url, cfg) in zip(served.sandboxes, served.served, strict=True):
            # an earlier `refundkit sandbox` may have played other Master Data answers under this account: probe again
            forget_verdict(settings.cache_dir, cfg.account)
            # connect() saves the ledger's schemas on a loopback sandbox, so the notebooks and the app find them
            chosen = name if served.toml_path is not None else None
            with connect(settings=load_settings(env=run_env, env_file=False, account=chosen)):
                pass
            period = f"{len(sandbox.store):,} orders from {sandbox.config.start} up to today, {sandbox.config.end}"
            _say(f"Sandbox (a synthetic VTEX store: {period}), account {name} ({cfg.account}), at {url}")
        _say(f"What you record is kept in {settings.cache_dir / 'sandbox'}")
        _say("To use it from a shell, a script or your own notebook, export:")
        for name, value in variables.items():
            _say(f"  export {name}={value}")
        if served.toml_path is not None:
            _say("  (VTEX_* reach the account main; --account outlet the other; report --all-accounts both)")
        if no_lab:
            _say("Sandbox running; press Ctrl-C to stop.")
            threading.Event().wait()
            return 0
        work = notebooks.parent / WORK_FOLDER / "notebooks"
        copies = working_copies(notebooks, work)
        token = new_token()
        lab_config = write_lab_config(work.parent, token)
        # JupyterLab and the app start side by side: the demo is ready when the slower of the two answers
        lab = subprocess.Popen(
            lab_command(work, lab_port, lab_config),
            env=run_env,
            stdin=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the demo only; it stops JupyterLab without a prompt
        )
        app = None
        try:
            app, app_url = start_app(app_port, run_env, log=subprocess.DEVNULL)
            _say(f"Refund desk (the web app) at {app_url}")
            _wait_for_lab(lab, lab_port)
            lab_url = f"http://127.0.0.1:{lab_port}/lab?token={token}"
            _say(f"JupyterLab at {lab_url}")
            _say(f"  on working copies of the notebooks in {work} (git-ignored):")
            for c in copies:
                _say(f"    {c.name}")
            _say("Press Ctrl-C to stop everything.")
            _open_browser(lab_url, work.parent)
            return lab.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            stop_server(lab, timeout=20)
            lab_config.unlink(missing_ok=True)
            if app is not None:
                stop_app(app)
