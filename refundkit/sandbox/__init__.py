"""A local fake of the VTEX APIs refundkit uses: OMS orders, DO notes and Master Data v2.

The demo, the tests and the benchmarks run against it. It behaves as VTEX does where a client can get hurt — page
caps, inclusive date bounds at nanosecond precision, eventually consistent search, conditional writes, rate limits,
lost responses — and refuses every endpoint that moves money::

    from refundkit.sandbox import Sandbox, SandboxConfig, FaultRule

    sb = Sandbox(SandboxConfig(seed=7))
    with sb.serve(port=0) as srv:
        srv.base_url            # http://127.0.0.1:<port>
        sb.requests             # every request answered
        sb.money_moving_calls   # must stay empty

``python -m refundkit.sandbox`` serves the demo store until Ctrl-C.
"""

from .config import DEMO_ACCOUNT, DEMO_APP_KEY, DEMO_APP_TOKEN, FaultRule, FaultRules, SandboxConfig
from .http import Request, Response
from .server import DROP, RequestRecord, Sandbox, SandboxServer, run_forever
from .store import InputInvoice, ItemLine, OrderSummary, Payment, Store

__all__ = [
    "DEMO_ACCOUNT",
    "DEMO_APP_KEY",
    "DEMO_APP_TOKEN",
    "DROP",
    "FaultRule",
    "FaultRules",
    "InputInvoice",
    "ItemLine",
    "OrderSummary",
    "Payment",
    "Request",
    "RequestRecord",
    "Response",
    "Sandbox",
    "SandboxConfig",
    "SandboxServer",
    "Store",
    "run_forever",
]
