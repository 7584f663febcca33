"""The suite fails on dead code in refundkit/: vulture reads the package (with tests/dead_code_whitelist.py, the names
that are alive although nothing in refundkit/ calls them) and must find nothing.

The confidence is vulture's 60 %, the level of an unused function, method, class, attribute or property: at 80 %
vulture reports only unused imports and arguments and unreachable code, and an unused function would go unnoticed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHITELIST = Path(__file__).with_name("dead_code_whitelist.py")
MIN_CONFIDENCE = 60


def test_refundkit_has_no_dead_code() -> None:
    found = subprocess.run(
        [
            sys.executable,
            "-m",
            "vulture",
            "refundkit",
            str(WHITELIST.relative_to(ROOT)),
            f"--min-confidence={MIN_CONFIDENCE}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode in (0, 3), found.stderr  # 3: dead code found; anything else: vulture did not run
    dead = found.stdout.strip()
    assert not dead, (
        "dead code in refundkit/ (nothing calls it):\n"
        f"{dead}\n"
        "delete it; or, if it is called by name from outside refundkit/ (a framework such as argparse, ipywidgets "
        "or tornado, a notebook, the tests' helpers), add the name to tests/dead_code_whitelist.py with the reason"
    )
