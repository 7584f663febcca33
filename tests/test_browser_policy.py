"""Without chromium the browser tests skip with the how-to on a developer's machine, and fail under CI."""

from __future__ import annotations

import pytest
from _pytest.outcomes import Failed, Skipped

from tests.browser.conftest import _missing


def test_missing_chromium_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(Skipped, match="apt-get install chromium"):
        _missing("chromium is not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Failed, match="apt-get install chromium"):
        _missing("chromium is not installed")
