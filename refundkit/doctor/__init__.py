"""``refundkit doctor`` (domain layer): prove on the merchant's own account each VTEX behaviour refundkit relies on."""

from ..ledger.verdict import SCRATCH_ENTITY
from .probes import Doctor, DoctorOptions, save_scratch_schema
from .report import Check, DoctorReport, Status
from .verdicts import MONEY_MOVING_RESOURCES

__all__ = [
    "MONEY_MOVING_RESOURCES",
    "SCRATCH_ENTITY",
    "Check",
    "Doctor",
    "DoctorOptions",
    "DoctorReport",
    "Status",
    "save_scratch_schema",
]
