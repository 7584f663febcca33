"""``python -m refundkit.sandbox [--port 8765] [--seed 7] ...``: serve the demo VTEX sandbox until Ctrl-C.

The same flags and defaults as ``refundkit sandbox`` (:mod:`refundkit.sandbox.flags`).
"""

from __future__ import annotations

import argparse
import sys

from ..config import load_settings
from ..errors import ConfigError
from .flags import add_sandbox_flags, config_from_args
from .server import run_forever


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m refundkit.sandbox", description=__doc__)
    add_sandbox_flags(p)
    a = p.parse_args(argv)
    try:
        cfg = config_from_args(a, cache_dir=load_settings().cache_dir)
    except (ConfigError, ValueError) as exc:
        print(f"python -m refundkit.sandbox: {exc}", file=sys.stderr)
        return 2
    try:
        run_forever(cfg, port=a.port, accounts=a.accounts)
    except OSError as exc:
        print(f"cannot serve on port {a.port}: {exc.strerror or exc}; pick another with --port", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
