"""``VtexClient``: one object that holds the transport and the three resources."""

from __future__ import annotations

from typing import Any

from ..config import Settings, load_settings
from .masterdata import MasterData
from .notes import Notes
from .oms import Orders
from .payments import Payments
from .transport import Transport

__all__ = ["VtexClient"]


class VtexClient:
    """Read orders (OMS) and payment transactions (GET only), keep documents (Master Data v2), annotate orders (Do).
    Never moves money.

    >>> client = VtexClient.from_env()          # doctest: +SKIP
    >>> client.orders.get("1306331686122-01")   # doctest: +SKIP
    """

    def __init__(self, settings: Settings, **transport_options: Any) -> None:
        self.settings = settings
        self.transport = Transport(settings, **transport_options)
        self.payments = Payments(
            self.transport, enabled=settings.check_gateway, mode=settings.zero_decimal_amounts
        )  # read only: GET of a transaction
        self.orders = Orders(self.transport, payments=self.payments)
        self.notes = Notes(self.transport)
        self.masterdata = MasterData(self.transport)

    @classmethod
    def from_env(cls, **transport_options: Any) -> VtexClient:
        return cls(load_settings(), **transport_options)

    def __repr__(self) -> str:
        return f"VtexClient(account={self.settings.account!r}, base_url={self.transport.base_url!r})"

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> VtexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
