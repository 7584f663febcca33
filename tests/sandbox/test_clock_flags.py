"""The sandbox plays VTEX's clock: its answers' Date header runs ``--clock-offset-s`` away from this computer's, or
is left out (``--no-date-header``), from both entry points."""

from __future__ import annotations

import argparse
from email.utils import parsedate_to_datetime

import httpx
import pytest

from refundkit.present.cli import build_parser
from refundkit.sandbox.flags import add_sandbox_flags, config_from_args
from refundkit.testing import small_config
from refundkit.timeutil import utc_now


def test_the_flags_set_the_clock_variants(tmp_path) -> None:
    module = argparse.ArgumentParser()
    add_sandbox_flags(module)
    argv = ["--clock-offset-s", "-86400", "--no-date-header"]
    a, b = module.parse_args(argv), build_parser().parse_args(["sandbox", *argv])
    config = config_from_args(a, cache_dir=tmp_path)
    assert config == config_from_args(b, cache_dir=tmp_path)
    assert config.clock_offset_s == -86400.0 and config.date_header is False
    defaults = config_from_args(module.parse_args([]), cache_dir=tmp_path)
    assert defaults.clock_offset_s == 0.0 and defaults.date_header is True


@pytest.mark.parametrize(("offset", "header"), [(0.0, True), (-86_400.0, True), (3_600.0, False)])
def test_the_date_header_follows_the_sandboxs_clock(sandbox_factory, offset: float, header: bool) -> None:
    served = sandbox_factory(small_config(clock_offset_s=offset, date_header=header))
    cfg = served.sb.config
    answer = httpx.get(
        served.base_url + "/api/oms/pvt/orders",
        headers={"X-VTEX-API-AppKey": cfg.app_key, "X-VTEX-API-AppToken": cfg.app_token},
    )
    assert answer.status_code == 200
    if not header:
        assert "date" not in answer.headers
        return
    said = parsedate_to_datetime(answer.headers["date"]).timestamp()
    assert abs(said - (utc_now().ns / 1e9 + offset)) < 60
