"""`refundkit doctor` compares this computer's clock with VTEX's (the Date of its answers): a sync counts as covered
only what VTEX's clock had reached, and a clock far off is worth setting."""

from __future__ import annotations

import pytest

from refundkit.doctor import Doctor, DoctorOptions, Status
from refundkit.testing import ManualClock, small_config
from refundkit.vtex import VtexClient
from refundkit.vtex.transport import RetryPolicy


@pytest.mark.parametrize(
    ("clock_offset_s", "date_header", "status", "says"),
    [
        (0.0, True, Status.PASS, "within a few minutes of VTEX's"),
        (-86_400.0, True, Status.WARN, "this computer's clock is 24.0 hours ahead of VTEX's"),
        (1_800.0, True, Status.WARN, "this computer's clock is 30 minutes behind VTEX's"),
        (0.0, False, Status.SKIPPED, "carried no Date header"),
    ],
)
def test_doctor_says_how_far_this_computers_clock_is_from_vtexs(
    sandbox_factory, clock_offset_s: float, date_header: bool, status: Status, says: str
) -> None:
    served = sandbox_factory(small_config(clock_offset_s=clock_offset_s, date_header=date_header))
    clock = ManualClock()
    with VtexClient(served.settings(), retry=RetryPolicy.fast()) as client:
        report = Doctor(client, clock=clock, sleep=clock.advance, verdict_dir=False).run(
            DoctorOptions(search_deadline_s=5, notes_deadline_s=5)
        )
    row = report.get("clock")
    assert row.status is status and says in row.result, row
    if status is Status.WARN:
        assert "NTP" in row.action
