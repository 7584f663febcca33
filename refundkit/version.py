"""refundkit's version (one definition: the package, reports and exports read it here)."""

__version__ = "0.1.0"
