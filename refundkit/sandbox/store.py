"""The synthetic store: a few thousand VTEX orders, deterministic from a seed.

Summaries (:class:`OrderSummary`) are built eagerly and carry every fact that counts money — items, totals,
payments, return invoices — so tests can compute what a list call must answer. The full order JSON that
``GET /api/oms/pvt/orders/{orderId}`` returns is built on request from the summary plus a per-order random generator
seeded with ``(seed, index)``, so it is the same on every call and costs nothing until asked for.

What the data contains on purpose:

* creation times over ``[start, end]`` (UTC days) with weekly and daily seasonality, in 100 ns ticks (VTEX's
  7 fractional digits), kept exactly as :class:`~refundkit.timeutil.Instant`;
* one flash-sale day with ``flash_sale_orders`` extra orders (more than the 30 x 100 a list filter can page through),
  or, with ``flash_sale_hours``, all of them within that many hours (a Black Friday: 40,000 orders in two hours);
* 40 orders sharing one instant exactly at a UTC midnight and 25 sharing one instant with a non-zero 7th fractional
  digit in the middle of a day (window bounds and keyset paging must not lose or double them);
* statuses, two currencies (USD on sales channel "2"), seven payment methods, split payments, and return (``Input``)
  invoices on about 6 % of invoiced orders, a few with two.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from refundkit.statuses import DOCUMENTED, Place, place_of
from refundkit.timeutil import Instant, utc_now

from .adjustments import Adjustment, Change, transaction_id_for
from .config import SandboxConfig

__all__ = ["RARE_STATUSES", "STATUS_DESCRIPTIONS", "InputInvoice", "ItemLine", "OrderSummary", "Payment", "Store"]

_NS = 1_000_000_000
_TICK = 100  # VTEX timestamps have 7 fractional digits: 100 ns
_HOUR = 3600 * _NS
_DAY = 24 * _HOUR

STATUS_DESCRIPTIONS = {
    "invoiced": "Faturado",
    "handling": "Preparando Entrega",
    "ready-for-handling": "Pronto para o manuseio",
    "payment-approved": "Pagamento Aprovado",
    "payment-pending": "Pagamento Pendente",
    "canceled": "Cancelado",
    "window-to-cancel": "Carência para Cancelamento",
}
_STATUSES = list(STATUS_DESCRIPTIONS)
#: Documented statuses the demo mix lacks (``SandboxConfig.rare_statuses`` gives some orders each of them).
RARE_STATUSES = frozenset(DOCUMENTED - set(STATUS_DESCRIPTIONS))
#: Orders a rarer status is taken from, by what it implies: the dates of the order stay consistent with it.
_STATUS_SOURCES = {
    "invoiced": ("invoiced",),
    "paid": ("payment-approved", "ready-for-handling", "handling", "window-to-cancel"),
    "canceled": ("canceled",),
    "unpaid": ("payment-pending",),
}


def _source_of(status: str) -> str:
    if status in ("invoice", "invoice-after-cancellation-deny"):
        return "invoiced"
    place = place_of(status)
    if place is Place.CANCELED:
        return "canceled"
    return "paid" if place is Place.COUNTED else "unpaid"


_STATUS_WEIGHTS = [81, 3.5, 3, 2.5, 3, 5, 2]

# (name, brand, category, base price in BRL cents)
_CATALOG = [
    ("Camiseta Básica Algodão", "Aurora", "Roupas", 5990),
    ("Calça Jeans Slim", "Aurora", "Roupas", 18990),
    ("Jaqueta Corta-Vento", "Montanha", "Roupas", 34990),
    ("Tênis Corrida Leve", "Passo", "Calçados", 39990),
    ("Sandália Couro", "Passo", "Calçados", 14990),
    ("Mochila Urbana 20L", "Trilha", "Acessórios", 22990),
    ("Boné Aba Curva", "Trilha", "Acessórios", 7990),
    ("Relógio Digital", "Tempo", "Acessórios", 29990),
    ("Fone Bluetooth", "Sonar", "Eletrônicos", 24990),
    ("Carregador Turbo 30W", "Sonar", "Eletrônicos", 12990),
    ("Caixa de Som Portátil", "Sonar", "Eletrônicos", 44990),
    ("Smartwatch Fit", "Tempo", "Eletrônicos", 89990),
    ("Garrafa Térmica 1L", "Trilha", "Casa", 9990),
    ("Jogo de Toalhas", "Lar", "Casa", 15990),
    ("Panela Antiaderente", "Lar", "Casa", 19990),
    ("Cafeteira Elétrica", "Lar", "Casa", 32990),
    ("Luminária de Mesa", "Lar", "Casa", 13990),
    ("Perfume 100ml", "Essência", "Beleza", 27990),
    ("Kit Cuidados Faciais", "Essência", "Beleza", 16990),
    ("Protetor Solar FPS 50", "Essência", "Beleza", 6990),
    ("Livro de Receitas", "Página", "Livros", 8990),
    ("Caderno Pontilhado", "Página", "Papelaria", 4590),
    ("Kit Canetas Coloridas", "Página", "Papelaria", 3990),
    ("Bola de Futebol", "Arena", "Esportes", 12990),
    ("Tapete de Yoga", "Arena", "Esportes", 11990),
    ("Halteres 2kg (par)", "Arena", "Esportes", 8990),
    ("Óculos de Sol", "Aurora", "Acessórios", 25990),
    ("Carteira Couro", "Aurora", "Acessórios", 10990),
    ("Console Portátil", "Pixel", "Games", 189990),
    ("Controle Sem Fio", "Pixel", "Games", 39990),
    ("Cartão Presente R$ 100", "Loja", "Vale-presente", 10000),
    ("Vestido Midi", "Aurora", "Roupas", 21990),
]
_FIRST = [
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Elisa",
    "Fábio",
    "Gabriela",
    "Heitor",
    "Isabela",
    "João",
    "Karina",
    "Lucas",
    "Mariana",
    "Nicolas",
    "Olívia",
    "Pedro",
    "Quésia",
    "Rafael",
    "Sofia",
    "Tiago",
    "Úrsula",
    "Vítor",
    "Wesley",
    "Yasmin",
    "Zeca",
    "Beatriz",
    "Caio",
    "Daniela",
    "Eduardo",
    "Fernanda",
]
_LAST = [
    "Silva",
    "Souza",
    "Oliveira",
    "Santos",
    "Lima",
    "Pereira",
    "Costa",
    "Ferreira",
    "Almeida",
    "Rocha",
    "Carvalho",
    "Gomes",
    "Martins",
    "Araújo",
    "Ribeiro",
    "Barbosa",
    "Teixeira",
    "Moreira",
    "Cardoso",
    "Nunes",
]
_CITIES = [
    ("São Paulo", "SP", "01310"),
    ("Rio de Janeiro", "RJ", "20040"),
    ("Belo Horizonte", "MG", "30130"),
    ("Curitiba", "PR", "80010"),
    ("Porto Alegre", "RS", "90010"),
    ("Salvador", "BA", "40020"),
    ("Recife", "PE", "50030"),
    ("Fortaleza", "CE", "60060"),
    ("Brasília", "DF", "70040"),
]
_US_CITIES = [
    ("Miami", "FL", "33101"),
    ("New York", "NY", "10001"),
    ("Austin", "TX", "73301"),
    ("Seattle", "WA", "98101"),
    ("Chicago", "IL", "60601"),
]

# name -> (paymentSystem id, group). The spec's group enum has no PayPal group; VTEX files wallets like it under
# "promissory" in that enum's terms, so that is what the sandbox sends.
PAYMENT_SYSTEMS = {
    "Visa": ("2", "creditCard"),
    "Mastercard": ("4", "creditCard"),
    "American Express": ("1", "creditCard"),
    "Boleto Bancário": ("6", "bankInvoice"),
    "Pix": ("125", "instantPayment"),
    "PayPal": ("31", "promissory"),
    "Gift card": ("16", "giftCard"),
}
_BRL_PAY = (
    ["Visa", "Mastercard", "American Express", "Boleto Bancário", "Pix", "PayPal", "Gift card"],
    [30, 25, 5, 12, 20, 4, 4],
)
_USD_PAY = (["Visa", "Mastercard", "American Express", "PayPal"], [40, 30, 15, 15])

# Local hour (store time, UTC-3) -> relative weight; shifted to UTC below.
_LOCAL_HOUR_WEIGHTS = [
    0.35,
    0.2,
    0.12,
    0.08,
    0.08,
    0.15,
    0.35,
    0.6,
    0.9,
    1.1,
    1.25,
    1.35,
    1.45,
    1.35,
    1.3,
    1.25,
    1.25,
    1.35,
    1.5,
    1.65,
    1.8,
    1.7,
    1.2,
    0.7,
]
_UTC_HOUR_WEIGHTS = [_LOCAL_HOUR_WEIGHTS[(h - 3) % 24] for h in range(24)]
_WEEKDAY_WEIGHTS = [1.0, 1.0, 1.05, 1.05, 1.15, 0.85, 0.75]  # Monday first
#: A flash sale held within a few hours (``flash_sale_hours``) starts at 02:00 UTC: 23:00 the evening before in the
#: store's zone (UTC-3), so that the store's midnight falls inside it.
_FLASH_BURST_START_H = 2
_FLASH_HOUR_WEIGHTS = [0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1, 2, 3, 4, 5, 9, 10, 8, 5, 4, 3, 3, 3, 3, 2, 1.5, 1]


class ItemLine(NamedTuple):
    sku: str
    product: int  # index into the catalog
    quantity: int
    list_price: int
    price: int  # unit price before promotions (cents)
    selling_price: int  # unit price after promotions (cents)


class Payment(NamedTuple):
    name: str  # paymentSystemName
    value: int  # cents


class InputInvoice(NamedTuple):
    """A return invoice: VTEX's native refund."""

    number: str
    value: int  # cents, refunded amount
    issued: Instant
    items: tuple[tuple[int, int], ...]  # (item index, quantity) returned; empty for a compensation (value only)


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """The money facts of one order. ``created`` is exact (100 ns ticks, UTC)."""

    index: int  # generation index; seeds the per-order generator of the full JSON
    order_id: str
    sequence: int
    created: Instant
    status: str
    currency: str
    sales_channel: str
    origin: str
    items: tuple[ItemLine, ...]
    shipping_cents: int
    tax_cents: int
    payments: tuple[Payment, ...]
    authorized: Instant | None
    invoiced: Instant | None
    canceled: Instant | None
    output_invoice: str | None
    input_invoices: tuple[InputInvoice, ...]
    client_first_name: str
    client_last_name: str

    @property
    def items_cents(self) -> int:
        return sum(i.price * i.quantity for i in self.items)

    @property
    def discounts_cents(self) -> int:
        """Zero or negative, as VTEX's ``Discounts`` total."""
        return sum((i.selling_price - i.price) * i.quantity for i in self.items)

    @property
    def total_cents(self) -> int:
        return self.items_cents + self.discounts_cents + self.shipping_cents + self.tax_cents

    @property
    def total_items(self) -> int:
        return sum(i.quantity for i in self.items)

    @property
    def payment_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.payments)

    @property
    def has_input_invoice(self) -> bool:
        return bool(self.input_invoices)

    @property
    def refunded_cents(self) -> int:
        """What VTEX refunded natively: the sum of the return invoices."""
        return sum(inv.value for inv in self.input_invoices)

    @property
    def last_change(self) -> Instant:
        events = [self.created, self.authorized, self.invoiced, self.canceled]
        events += [inv.issued for inv in self.input_invoices]
        return max(e for e in events if e is not None)

    @property
    def client_name(self) -> str:
        return f"{self.client_first_name} {self.client_last_name}"


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _day_ns(d: date) -> int:
    return Instant.from_datetime(datetime(d.year, d.month, d.day, tzinfo=UTC)).ns


def _ticks(rng: random.Random, span_ns: int) -> int:
    """A random offset in [0, span_ns) that is a whole number of 100 ns ticks."""
    return rng.randrange(span_ns // _TICK) * _TICK


class Store:
    """The synthetic store. ``orders`` is sorted by creation (ties by order id); ``sequence`` follows that order."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        cfg = config or SandboxConfig()
        self.config = cfg
        self.seed = cfg.seed
        self.account = cfg.account
        first, last = _day(cfg.start), _day(cfg.end)
        if last < first:
            raise ValueError(f"end {cfg.end} is before start {cfg.start}")
        if cfg.orders < 0 or cfg.flash_sale_orders < 0:
            raise ValueError("orders and flash_sale_orders cannot be negative")
        self.first_day, self.last_day = first, last
        self.start = Instant(_day_ns(first))
        self.end = Instant(_day_ns(last + timedelta(days=1)) - _TICK)  # last representable tick of the last day
        span_days = (last - first).days + 1
        self.flash_sale_day = self._pick_day(cfg.flash_sale_day or "2026-06-15", 0.5)
        midnight_day = self._pick_day("2026-03-01", 1 / 3)
        shared_day = self._pick_day("2026-04-14", 2 / 3)
        self.midnight_instant = Instant(_day_ns(midnight_day))
        self.shared_instant = Instant(_day_ns(shared_day) + 14 * _HOUR + 27 * 60 * _NS + 31 * _NS + 415_926_700)
        self.midnight_group_size = 40
        self.shared_group_size = 25

        rng = random.Random(cfg.seed)
        created: list[int] = []
        # regular orders: a day by weekday x slow growth x seasonal peaks, then an hour by the daily curve
        days = [first + timedelta(days=i) for i in range(span_days)]
        weights = [
            _WEEKDAY_WEIGHTS[d.weekday()] * (1 + 0.35 * i / max(span_days - 1, 1)) * _season(d)
            for i, d in enumerate(days)
        ]
        if cfg.orders:
            picked_days = rng.choices(range(span_days), weights=weights, k=cfg.orders)
            hours = rng.choices(range(24), weights=_UTC_HOUR_WEIGHTS, k=cfg.orders)
            base = _day_ns(first)
            for d, h in zip(picked_days, hours, strict=True):
                created.append(base + d * _DAY + h * _HOUR + _ticks(rng, _HOUR))
        if cfg.flash_sale_orders and cfg.flash_sale_hours is not None:  # a burst: every order within a few hours
            flash0 = _day_ns(self.flash_sale_day) + _FLASH_BURST_START_H * _HOUR
            span = int(cfg.flash_sale_hours * _HOUR)
            created.extend(flash0 + _ticks(rng, span) for _ in range(cfg.flash_sale_orders))
        elif cfg.flash_sale_orders:
            flash0 = _day_ns(self.flash_sale_day)
            hours = rng.choices(range(24), weights=_FLASH_HOUR_WEIGHTS, k=cfg.flash_sale_orders)
            created.extend(flash0 + h * _HOUR + _ticks(rng, _HOUR) for h in hours)
        created.extend([self.midnight_instant.ns] * self.midnight_group_size)
        created.extend([self.shared_instant.ns] * self.shared_group_size)

        end_refunds = _day_ns(last + timedelta(days=30))
        seen_ids: set[str] = set()
        drafts = []
        for index, ns in enumerate(created):
            while True:
                oid = f"{rng.randrange(10**12, 10**13)}-01"
                if oid not in seen_ids:
                    seen_ids.add(oid)
                    break
            drafts.append(_draft(rng, index, oid, ns, end_refunds))
        if cfg.follows_clock:
            now = utc_now().ns
            drafts = [_as_of(d, now) for d in drafts if d["created"] <= now]
        drafts.sort(key=lambda d: (d["created"], d["order_id"]))
        self.orders: list[OrderSummary] = [
            OrderSummary(sequence=500_001 + i, **{**d, "created": Instant(d["created"])}) for i, d in enumerate(drafts)
        ]
        if cfg.rare_statuses or cfg.unknown_statuses:
            self._give_statuses(cfg)
        self._by_id = {o.order_id: o for o in self.orders}
        self._by_seq = {o.sequence: o for o in self.orders}
        # columns for the list endpoint (same order as self.orders)
        self.created_ns = [o.created.ns for o in self.orders]
        self.total_values = [o.total_cents for o in self.orders]
        self.total_items = [o.total_items for o in self.orders]
        self._list_cache: dict[int, dict[str, Any]] = {}
        self.adjustments: dict[str, Adjustment] = {}
        self._by_tid: dict[str, str] | None = None
        #: order groups of more than one order: group id -> its orders' ids (``{group}-01`` first)
        self.groups: dict[str, tuple[str, ...]] = {}
        #: payment transactions that are another account's (reading them answers 403)
        self.foreign_transactions: set[str] = set()
        if cfg.order_groups:
            self._seed_order_groups(cfg.order_groups)
        if cfg.foreign_payments:
            picks = [o for o in self.orders if o.status == "invoiced" and o.order_id not in self._grouped()]
            for o in picks[3::89][: cfg.foreign_payments]:
                self.foreign_transactions.add(transaction_id_for(self.account, o.order_id))
        if cfg.value_after_return == "reduced":
            for pos, o in enumerate(self.orders):
                self.total_values[pos] = self.listed_value(o)
        if cfg.other_refunds:
            self._seed_other_refunds()

    # -- order groups, payments and the order value ------------------------------------------------------------
    def _grouped(self) -> set[str]:
        return {oid for ids in self.groups.values() for oid in ids}

    def _seed_order_groups(self, count: int) -> None:
        """``count`` carts split into 2-3 orders: an invoiced order gets siblings ``{group}-02`` (and ``-03``),
        copies of other orders of its currency placed at the same instant, sharing its payment."""
        heads = [o for o in self.orders if o.status == "invoiced" and o.order_id.endswith("-01")][5::53][:count]
        for k, head in enumerate(heads):
            group = head.order_id[:-3]
            likes = [o for o in self.orders[head.index % 97 :: 101] if o.currency == head.currency][: 1 + k % 2]
            ids = [head.order_id]
            for n, like in enumerate(likes, start=2):
                sibling = self.add_order(like.order_id, head.created, f"{group}-{n:02d}")
                sibling = self._replace(
                    sibling.order_id,
                    status=head.status,
                    authorized=head.authorized,
                    invoiced=head.invoiced,
                    canceled=None,
                    output_invoice=None if head.output_invoice is None else f"{head.output_invoice}-{n}",
                    payments=(Payment(head.payments[-1].name, sibling.total_cents),),
                    client_first_name=head.client_first_name,
                    client_last_name=head.client_last_name,
                )
                ids.append(sibling.order_id)
            self.groups[group] = tuple(ids)
        self._by_tid = None

    def group_orders(self, order_id: str) -> list[OrderSummary]:
        """The orders of ``order_id``'s group that share its payment transaction, ``-01`` first (just the order
        when it is alone)."""
        o = self._by_id[order_id]
        ids = self.groups.get(order_id[:-3])
        return [self._by_id[i] for i in ids] if ids else [o]

    def installments_of(self, o: OrderSummary) -> int:
        """How many installments the group's card payment has (1 for other payments)."""
        head = self.group_orders(o.order_id)[0]
        if PAYMENT_SYSTEMS[head.payments[-1].name][1] != "creditCard":
            return 1
        return (1, 2, 3, 6, 10)[head.index % 5]

    def listed_value(self, o: OrderSummary) -> int:
        """The order's ``value`` (and the list's ``totalValue``) as VTEX shows it now: the total, less order
        changes, less the return invoices when :attr:`SandboxConfig.value_after_return` is ``reduced``."""
        adjustment = self.adjustments.get(o.order_id)
        value = o.total_cents - (adjustment.reduction if adjustment else 0)
        if self.config.value_after_return == "reduced":
            value -= o.refunded_cents
        return value

    def _give_statuses(self, cfg: SandboxConfig) -> None:
        """``rare_statuses`` orders of each documented status the demo mix lacks, and ``unknown_statuses`` orders of
        ``unknown_status``: each taken from orders whose dates fit it (paid, invoiced, canceled or unpaid; from the
        most numerous when a small store lacks them), picked by their own generator so that the rest of the store
        stays as the seed makes it."""
        rng = random.Random(f"{cfg.seed}-statuses")
        pools = {
            kind: [i for i, o in enumerate(self.orders) if o.status in bases] for kind, bases in _STATUS_SOURCES.items()
        }
        for pool in pools.values():
            rng.shuffle(pool)
        wanted = [(s, _source_of(s)) for s in sorted(RARE_STATUSES) for _ in range(cfg.rare_statuses)]
        wanted += [(cfg.unknown_status, "invoiced")] * cfg.unknown_statuses
        for status, fits in wanted:
            # a small store may lack orders that fit: then the most numerous kind (dates fit less, the status counts)
            kind = fits if pools[fits] else max(pools, key=lambda k: len(pools[k]))
            if not pools[kind]:
                raise ValueError(f"the store has too few orders to give {len(wanted)} of them rarer statuses")
            i = pools[kind].pop()
            self.orders[i] = dataclasses.replace(self.orders[i], status=status)

    def adjust(self, order_id: str, adjustment: Adjustment) -> None:
        """Give an order VTEX's other refunds (see :mod:`refundkit.sandbox.payments`); replaces an earlier one."""
        o = self.order(order_id)
        if o is None:
            raise KeyError(order_id)
        self.adjustments[o.order_id] = adjustment
        pos = self._position(o.order_id)
        self.total_values[pos] = self.listed_value(o)
        self._list_cache.pop(pos, None)
        self.__dict__.pop("_oms_index", None)  # list statistics are rebuilt with the new value
        self.__dict__.pop("_ranks", None)

    def _seed_other_refunds(self) -> None:
        """A deterministic handful of orders with each kind of refund VTEX makes beyond return invoices."""
        invoiced = [o for o in self.orders if o.status == "invoiced"]
        for k, o in enumerate(invoiced[7::97]):
            kind = k % 4
            if kind == 0:  # refunded in the gateway, no return invoice
                self.adjust(o.order_id, Adjustment(gateway_refund=o.total_cents // 5))
            elif kind == 1:  # an item removed after settlement: the gateway paid the difference back
                cut = o.total_cents // 4
                self.adjust(o.order_id, Adjustment([Change("item out of stock", cut)], change_settled=True))
            elif kind == 2:  # a discount before settlement: the charge itself went down
                self.adjust(o.order_id, Adjustment([Change("goodwill discount", o.total_cents // 10)]))
            elif o.input_invoices:  # a restitution smaller than its return invoice (freight kept)
                inv = o.input_invoices[0]
                self.adjust(o.order_id, Adjustment(restitutions={inv.number: max(inv.value - 990, 1)}))
        # order groups (with --order-groups): a gateway refund on the shared transaction, a change after settlement
        # and one before it, each on a second order of its group
        for k, ids in enumerate(list(self.groups.values())[:3]):
            sibling = self._by_id[ids[1]]
            cut = sibling.total_cents // 4
            adjustment = (
                Adjustment(gateway_refund=cut),
                Adjustment([Change("item out of stock", cut)], change_settled=True),
                Adjustment([Change("goodwill discount", cut)]),
            )[k]
            self.adjust(sibling.order_id, adjustment)

    def order_by_transaction(self, transaction_id: str) -> OrderSummary | None:
        if self._by_tid is None:
            grouped = self._grouped()
            self._by_tid = {
                transaction_id_for(self.account, o.order_id): o.order_id
                for o in self.orders
                if o.order_id not in grouped or o.order_id.endswith("-01")
            }
        oid = self._by_tid.get(transaction_id.upper())
        return self._by_id.get(oid) if oid else None

    def _pick_day(self, preferred: str, fraction: float) -> date:
        """``preferred`` when the store holds it, else the same day of another year it holds (a store that follows
        the clock keeps its flash sale in June), else the day ``fraction`` of the way through."""
        d = _day(preferred)
        for year in (d.year, self.first_day.year, self.last_day.year):
            with contextlib.suppress(ValueError):  # 29 February in a year without it
                if self.first_day <= (same := d.replace(year=year)) <= self.last_day:
                    return same
        return self.first_day + timedelta(days=int(((self.last_day - self.first_day).days) * fraction))

    # -- lookups -------------------------------------------------------------------------------------------------

    def order(self, order_id: str) -> OrderSummary | None:
        """The summary of an order by id, or by ``seq{sequence}`` as VTEX accepts; None when unknown."""
        if order_id.startswith("seq") and order_id[3:].isdigit():
            return self._by_seq.get(int(order_id[3:]))
        return self._by_id.get(order_id)

    def window(self, first: Instant, last: Instant) -> range:
        """Positions in ``orders`` created in ``[first, last]`` (both inclusive, exact to the nanosecond)."""
        lo = bisect.bisect_left(self.created_ns, first.ns)
        hi = bisect.bisect_right(self.created_ns, last.ns)
        return range(lo, max(lo, hi))

    def __len__(self) -> int:
        return len(self.orders)

    # -- what happens to orders after they are placed (tests and benchmarks play VTEX's life cycle) -------------

    def _position(self, order_id: str) -> int:
        o = self._by_id.get(order_id)
        if o is None:
            raise KeyError(f"no order {order_id} in the sandbox")
        pos = bisect.bisect_left(self.created_ns, o.created.ns)
        while self.orders[pos].order_id != order_id:
            pos += 1
        return pos

    def _changed(self) -> None:
        """Forget what the list endpoint derived from the orders; it is rebuilt on the next call."""
        self._list_cache.clear()
        self.__dict__.pop("_oms_index", None)
        self.__dict__.pop("_ranks", None)

    def _replace(self, order_id: str, **changes: object) -> OrderSummary:
        pos = self._position(order_id)
        new = dataclasses.replace(self.orders[pos], **changes)  # type: ignore[arg-type]  # fields by name
        self.orders[pos] = self._by_id[order_id] = self._by_seq[new.sequence] = new
        self.total_values[pos], self.total_items[pos] = self.listed_value(new), new.total_items
        self._changed()
        return new

    def cancel_order(self, order_id: str, at: Instant | None = None) -> OrderSummary:
        """The order is canceled (status ``canceled``) at ``at`` (default: now)."""
        return self._replace(order_id, status="canceled", canceled=at or _now())

    def approve_payment(self, order_id: str, at: Instant | None = None) -> OrderSummary:
        """A ``payment-pending`` order is paid: status ``payment-approved``."""
        o = self._by_id[order_id]
        if o.status != "payment-pending":
            raise ValueError(f"order {order_id} is {o.status}, not payment-pending")
        return self._replace(order_id, status="payment-approved", authorized=at or _now())

    def set_status(self, order_id: str, status: str) -> OrderSummary:
        """The order moves to ``status``, any status, documented or not (VTEX's flow has paths the helpers above do
        not play: a denied cancellation, a creation error found later, a status nobody documents)."""
        return self._replace(order_id, status=status)

    def add_return_invoice(self, order_id: str, value_cents: int, issued: Instant | None = None) -> InputInvoice:
        """VTEX issues a return (Input) invoice of ``value_cents`` on the order: a VTEX-native refund."""
        o = self._by_id[order_id]
        inv = InputInvoice(f"R{o.index:06d}{len(o.input_invoices) + 1}", value_cents, issued or _now(), ())
        self._replace(order_id, input_invoices=(*o.input_invoices, inv))
        return inv

    def add_order(self, like: str, created: Instant, order_id: str | None = None) -> OrderSummary:
        """A new order placed at ``created``: a copy of order ``like`` (items, totals, status) under a new id."""
        model = self._by_id[like]
        oid = order_id or f"{9 * 10**12 + len(self.orders)}-01"
        if oid in self._by_id:
            raise ValueError(f"order {oid} already exists")
        new = dataclasses.replace(
            model,
            index=len(self.orders),
            order_id=oid,
            sequence=max(self._by_seq) + 1,
            created=created,
            input_invoices=(),
        )
        pos = bisect.bisect_right(self.created_ns, created.ns)
        self.orders.insert(pos, new)
        self.created_ns.insert(pos, created.ns)
        self.total_values.insert(pos, new.total_cents)
        self.total_items.insert(pos, new.total_items)
        self._by_id[oid], self._by_seq[new.sequence] = new, new
        self._by_tid = None
        self._changed()
        return new


def _now() -> Instant:
    return utc_now().to_utc()


def _as_of(draft: dict[str, Any], now: int) -> dict[str, Any]:
    """The order of ``draft`` as it stands at ``now`` (ns): what is due later has not happened yet. A payment not
    yet approved leaves it payment-pending, an invoice not yet issued leaves it handling, a cancellation not yet made
    leaves it in its window to cancel; a return invoice not yet issued is not there."""
    authorized, invoiced, canceled = draft["authorized"], draft["invoiced"], draft["canceled"]
    if authorized is not None and authorized.ns > now:
        return {**draft, "status": "payment-pending", "authorized": None, "invoiced": None, "canceled": None}
    if invoiced is not None and invoiced.ns > now:
        return {**draft, "status": "handling", "invoiced": None, "output_invoice": None, "input_invoices": ()}
    if canceled is not None and canceled.ns > now:
        status = "window-to-cancel" if authorized is not None else "payment-pending"
        return {**draft, "status": status, "canceled": None}
    kept = tuple(inv for inv in draft["input_invoices"] if inv.issued.ns <= now)
    return draft if len(kept) == len(draft["input_invoices"]) else {**draft, "input_invoices": kept}


def _season(d: date) -> float:
    if d.month == 11 and 20 <= d.day <= 30:  # Black Friday weeks
        return 2.2
    if d.month == 12 and d.day <= 23:
        return 1.5
    if d.month == 1 and d.day <= 10:
        return 0.7
    return 1.0


def _draft(rng: random.Random, index: int, order_id: str, created: int, end_refunds: int) -> dict[str, Any]:
    r = rng.random()
    channel = "2" if r < 0.10 else "3" if r < 0.20 else "1"
    currency = "USD" if channel == "2" else "BRL"
    origin = "Fulfillment" if rng.random() < 0.15 else "Marketplace"
    status = rng.choices(_STATUSES, weights=_STATUS_WEIGHTS)[0]
    n_items = rng.choices((1, 2, 3, 4), weights=(50, 28, 14, 8))[0]
    items = []
    for _ in range(n_items):
        p = rng.randrange(len(_CATALOG))
        base = _CATALOG[p][3]
        if currency == "USD":
            base = base // 5 // 10 * 10 + 9
        price = base
        list_price = price + (price * rng.choice((0, 0, 10, 20, 30)) // 100)
        discount = price * rng.choice((0, 0, 0, 5, 10, 15, 30)) // 100
        qty = rng.choice((1, 1, 1, 1, 2, 2, 3))
        items.append(ItemLine(str(1000 + p * 7 + 3), p, qty, list_price, price, price - discount))
    items_value = sum(i.selling_price * i.quantity for i in items)
    if currency == "USD":
        shipping = 0 if rng.random() < 0.35 else rng.randrange(599, 2000)
        tax = items_value * rng.choice((0, 6, 7, 8, 9)) // 100
    else:
        shipping = 0 if rng.random() < 0.3 else rng.randrange(990, 4990)
        tax = 0
    total = items_value + shipping + tax

    names, wts = _USD_PAY if currency == "USD" else _BRL_PAY
    method = rng.choices(names, weights=wts)[0]
    if method != "Gift card" and currency == "BRL" and rng.random() < 0.04 and total > 2000:
        gift = min(total - 100, rng.choice((2500, 5000, 10000)))
        payments: tuple[Payment, ...] = (Payment("Gift card", gift), Payment(method, total - gift))
    else:
        payments = (Payment(method, total),)

    authorized = invoiced = canceled = None
    if status != "payment-pending" and not (status == "canceled" and rng.random() < 0.4):
        authorized = created + 30 * _NS + _ticks(rng, 40 * 60 * _NS)
    if status == "invoiced":
        invoiced = (authorized or created) + 2 * _HOUR + _ticks(rng, 4 * _DAY)
    if status == "canceled":
        canceled = created + _HOUR + _ticks(rng, 3 * _DAY)

    input_invoices: list[InputInvoice] = []
    if invoiced is not None and rng.random() < 0.06:
        count = 2 if rng.random() < 0.08 else 1
        remaining = total
        issued = invoiced
        for k in range(count):
            issued = min(issued + _DAY + _ticks(rng, 35 * _DAY), end_refunds - _ticks(rng, _DAY) - _TICK)
            issued = max(issued, invoiced + _TICK)
            if count == 1 and rng.random() < 0.35:
                value, returned = total, tuple((i, it.quantity) for i, it in enumerate(items))
            else:
                share = rng.randrange(5, 46 if count == 2 else 91)
                value, returned = max(1, remaining * share // 100), ()
                if k == 0 and len(items) > 1 and rng.random() < 0.5:
                    # a whole item returned
                    value = min(remaining, items[0].selling_price)
                    returned = ((0, 1),)
            value = min(value, remaining)
            remaining -= value
            input_invoices.append(InputInvoice(f"R{index:06d}{k + 1}", value, Instant(issued), returned))
            if remaining <= 0:
                break

    return {
        "index": index,
        "order_id": order_id,
        "created": created,
        "status": status,
        "currency": currency,
        "sales_channel": channel,
        "origin": origin,
        "items": tuple(items),
        "shipping_cents": shipping,
        "tax_cents": tax,
        "payments": payments,
        "authorized": None if authorized is None else Instant(authorized),
        "invoiced": None if invoiced is None else Instant(invoiced),
        "canceled": None if canceled is None else Instant(canceled),
        "output_invoice": None if invoiced is None else f"{100000 + index}",
        "input_invoices": tuple(input_invoices),
        "client_first_name": rng.choice(_FIRST),
        "client_last_name": rng.choice(_LAST),
    }


def catalog_size() -> int:
    """How many products the synthetic catalog has."""
    return len(_CATALOG)


def catalog_entry(product: int) -> tuple[str, str, str, int]:
    return _CATALOG[product]


def cities(currency: str) -> list[tuple[str, str, str]]:
    return _US_CITIES if currency == "USD" else _CITIES
