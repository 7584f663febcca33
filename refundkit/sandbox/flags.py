"""The sandbox's command-line flags, defined once for ``refundkit sandbox`` and ``python -m refundkit.sandbox``.

Both entry points take the same flags with the same defaults: the demo store, Master Data search 2 s behind
writes (as on VTEX), what is recorded kept in ``REFUNDKIT_CACHE_DIR/sandbox`` across restarts (``--memory``: keep
nothing; ``--state-dir DIR``: keep it there).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, get_args

from ..argtypes import day_text, nonneg_float, positive_int, probability
from .config import (
    ItemInfo,
    ItemPrices,
    SandboxConfig,
    add_listing_flags,
    add_masterdata_flags,
    listing_options,
    masterdata_options,
)
from .payments import add_payments_flags, payments_options
from .permissions import access_options, add_access_flags
from .piiorders import add_pii_flags, pii_options

__all__ = ["DEFAULT_PORT", "DEFAULT_SEARCH_LAG_S", "add_sandbox_flags", "config_from_args"]

DEFAULT_PORT = 8765
DEFAULT_SEARCH_LAG_S = 2.0


def status_text(text: str) -> str:
    """A status as VTEX spells them: lower-case letters, digits and hyphens."""
    if not text or len(text) > 60 or not set(text) <= set("abcdefghijklmnopqrstuvwxyz0123456789-"):
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not a status such as awaiting-review")
    return text


def add_sandbox_flags(p: argparse.ArgumentParser) -> None:
    d = SandboxConfig  # the defaults, without making a config (that reads the clock)
    p.add_argument(
        "--port",
        type=positive_int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (0: any free one; default {DEFAULT_PORT})",
    )
    p.add_argument(
        "--accounts",
        type=int,
        choices=(1, 2),
        default=1,
        help="stores to serve at once (2: a second account with its own orders and Master Data, on a free port, "
        "and a refundkit.toml for both)",
    )
    p.add_argument("--seed", type=positive_int, default=d.seed, help=f"the synthetic store's seed (default {d.seed})")
    p.add_argument("--orders", type=positive_int, default=d.orders, help=f"regular orders (default {d.orders:,})")
    p.add_argument(
        "--flash-sale-orders",
        type=positive_int,
        default=d.flash_sale_orders,
        help=f"orders on the flash-sale day (default {d.flash_sale_orders:,})",
    )
    p.add_argument(
        "--today",
        type=day_text,
        default=None,
        metavar="DAY",
        help="the day the store runs up to, as if it were today (default: today, so the store is always current)",
    )
    p.add_argument(
        "--start",
        type=day_text,
        default=None,
        help="first UTC day of the store (default: the first day of the month a year before --today's)",
    )
    p.add_argument("--end", type=day_text, default=None, help="last UTC day of the store (default: --today)")
    p.add_argument("--latency-ms", type=nonneg_float, default=d.latency_ms, help="added to every answer (default 0)")
    p.add_argument("--rate-limit", type=nonneg_float, default=None, help="calls per second (default: unlimited)")
    p.add_argument("--error-rate", type=probability, default=d.error_rate, help="share of requests answered 5xx")
    p.add_argument(
        "--search-lag-s",
        type=nonneg_float,
        default=DEFAULT_SEARCH_LAG_S,
        help=f"seconds before Master Data search sees a write (default {DEFAULT_SEARCH_LAG_S:g})",
    )
    p.add_argument(
        "--notes-list-lag-s",
        type=nonneg_float,
        default=d.notes_list_lag_s,
        help="seconds before a posted note is listed (default 0; `refundkit doctor --notes-order` measures it)",
    )
    p.add_argument(
        "--other-refunds",
        action="store_true",
        help="give a handful of orders VTEX's other refunds: order changes, gateway refunds without an invoice, "
        "restitutions (refundkit.sandbox.payments)",
    )
    p.add_argument(
        "--deny-payments",
        action="store_true",
        help="answer 403 to GET /api/pvt/transactions/{id}, as for an app key without View Payment Data",
    )
    add_payments_flags(p)
    p.add_argument(
        "--clock-offset-s",
        type=float,
        default=d.clock_offset_s,
        metavar="SECONDS",
        help="VTEX's clock (its answers' Date header) runs this far ahead of this computer's; negative: behind",
    )
    p.add_argument("--no-date-header", action="store_true", help="answer without a Date header (a proxy strips it)")
    p.add_argument(
        "--rare-statuses",
        type=positive_int,
        default=d.rare_statuses,
        metavar="N",
        help="give N orders each documented status the demo mix lacks (invoice-after-cancellation-deny, "
        "approve-payment, order-create-error, ...; default 0)",
    )
    p.add_argument(
        "--unknown-statuses",
        type=positive_int,
        default=d.unknown_statuses,
        metavar="N",
        help="give N invoiced orders a status nobody documents (--unknown-status; default 0)",
    )
    p.add_argument(
        "--unknown-status",
        type=status_text,
        default=d.unknown_status,
        metavar="NAME",
        help=f"the undocumented status --unknown-statuses gives (default {d.unknown_status})",
    )
    p.add_argument(
        "--item-prices",
        choices=get_args(ItemPrices),
        default=d.item_prices,
        help="which price fields orders' items carry: full (priceDefinition, sellingPrice after every discount), "
        "no-definition (no priceDefinition), before-promotions (no priceDefinition; an order-level promotion only "
        "in priceTags and the totals); default full",
    )
    p.add_argument(
        "--item-info",
        choices=get_args(ItemInfo),
        default=d.item_info,
        help="what orders' items say of their catalog: full (productId, brand and categories in additionalInfo) or "
        "none (neither); default full",
    )
    p.add_argument(
        "--echo-headers",
        action="store_true",
        help="answer orders with the request's headers (the app token included) in their fields, as a broken proxy "
        "might; refundkit must show none of it",
    )
    keep = p.add_mutually_exclusive_group()
    keep.add_argument("--state-dir", type=Path, default=None, help="keep what is recorded here across restarts")
    keep.add_argument("--memory", action="store_true", help="keep nothing across restarts")
    add_masterdata_flags(p)
    add_listing_flags(p)
    add_access_flags(p)
    add_pii_flags(p)


def config_from_args(args: argparse.Namespace, *, cache_dir: Path) -> SandboxConfig:
    """The :class:`SandboxConfig` the flags of :func:`add_sandbox_flags` describe; by default the state is kept in
    ``cache_dir / "sandbox"``."""
    state_dir = None if args.memory else (args.state_dir or cache_dir / "sandbox")
    d = SandboxConfig  # the defaults, without making a config (that reads the clock)
    fields: dict[str, Any] = {
        "seed": args.seed,
        "orders": args.orders,
        "flash_sale_orders": args.flash_sale_orders,
        "start": args.start or "",
        "end": args.end or "",
        "today": args.today,
        "latency_ms": args.latency_ms,
        "rate_limit": args.rate_limit or None,
        "error_rate": args.error_rate,
        "search_lag_s": args.search_lag_s,
        "notes_list_lag_s": args.notes_list_lag_s,
        "other_refunds": bool(getattr(args, "other_refunds", False)),
        "payments_permission": not getattr(args, "deny_payments", False),
        "clock_offset_s": float(getattr(args, "clock_offset_s", 0.0)),
        "date_header": not getattr(args, "no_date_header", False),
        "rare_statuses": getattr(args, "rare_statuses", 0),
        "unknown_statuses": getattr(args, "unknown_statuses", 0),
        "unknown_status": getattr(args, "unknown_status", d.unknown_status),
        "echo_headers": bool(getattr(args, "echo_headers", False)),
        "item_prices": getattr(args, "item_prices", d.item_prices),
        "item_info": getattr(args, "item_info", d.item_info),
        "state_dir": state_dir,
        **payments_options(args),
        **masterdata_options(args),
        **listing_options(args),
        **access_options(args),
        **pii_options(args),
    }
    return SandboxConfig(**fields)
