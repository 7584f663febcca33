"""Fixtures of the presentation tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def in_ipython() -> Iterator[None]:
    """An IPython shell for the test, as in a kernel: there an ``Output`` widget shows an exception raised inside it
    as a traceback and swallows it."""
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()
    try:
        yield
    finally:
        InteractiveShell.clear_instance()
