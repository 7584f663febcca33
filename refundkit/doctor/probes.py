"""``refundkit doctor``: check, on the configured account, everything refundkit relies on.

Nobody can test refundkit against every VTEX account, and VTEX leaves several behaviours undocumented. The doctor
proves them on the merchant's own account, with calls that change nothing that matters:

* reads (an order list page, one order, a Master Data document by id, the ledger's schemas);
* writes only to documents of the scratch entity :data:`SCRATCH_ENTITY`, which refundkit never reads otherwise
  (fixed ids, overwritten on every run, so runs do not pile documents up);
* a note on an order only when the merchant names one (``notes_order``): notes cannot be deleted, so the doctor
  never writes to an order otherwise.

Waiting (search lag, notes lag) goes through the injected ``clock`` and ``sleep`` and is bounded by a deadline.

This module holds the probes (what is asked of VTEX, in :class:`Doctor`); what each answer means, one report row
each, is in :mod:`refundkit.doctor.verdicts`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from ..errors import AuthenticationError, LedgerError, NetworkError, RefundkitError, VtexError
from ..ledger.model import head_entity
from ..ledger.reconcile import RECONCILE_GRACE_S
from ..ledger.schemas import ENTRY_SCHEMA, HEAD_SCHEMA, SCHEMA_NAME
from ..ledger.verdict import (
    SCRATCH_ENTITY,
    SCRATCH_SCHEMA,
    SCRATCH_SCHEMA_BODY,
    probe_master_data,
    save_verdict,
    verdict_path,
)
from ..ledger.verdict import save_scratch_schema as _save_scratch_schema
from ..money import AmountError
from ..statuses import DOCUMENTED, LEFT_OUT_GROUPS, unknown_counts
from ..timeutil import Instant, utc_now
from ..vtex import Order, VtexClient
from ..vtex.notes import MAX_NOTES_PER_ORDER
from ..vtex.oms import check_order_id
from ..vtex.orderapi import CLASSIC, PII, order_api
from .report import Check, DoctorReport, Status
from .searchvalues import search_answers
from .verdicts import (  # what each answer means: one row each
    _LATER,
    _PERMISSIONS,
    _STATUSES_TITLE,
    LIST_ORDERS,
    MD_READ,
    VIEW_ORDER,
    _admin_permission,
    _amounts,
    _architecture,
    _clock,
    _condition_row,
    _credentials,
    _first_order_id,
    _list_rows,
    _listing,
    _missing_row,
    _money_roles,
    _newest_created,
    _not_yet,
    _notes_shape,
    _notes_total,
    _orders_api,
    _Outcome,
    _permission,
    _read_your_writes,
    _statuses_check,
    _write_permission,
)
from .vtexvalues import gateway_dates, item_prices, order_totals, value_after_return

__all__ = [
    "SCRATCH_ENTITY",
    "SCRATCH_SCHEMA",
    "SCRATCH_SCHEMA_BODY",
    "Doctor",
    "DoctorOptions",
    "save_scratch_schema",
]

T = TypeVar("T")

_RYW_ID = "doctor-read-your-writes"
_LAG_ID = "doctor-search-lag"
_ABSENT_HEAD_ID = "order-refundkit-doctor-absent"  # read (never written) in the ledger's order entity
_ABSENT_ORDER = "0000000000000-00"  # an order id no account has: a 404 proves the key may view orders
_SECOND = 1_000_000_000
_LIST_PARAMS = {"orderBy": "creationDate,desc", "page": "1", "per_page": "15", "incompleteOrders": "false"}


@dataclass(frozen=True)
class DoctorOptions:
    """``notes_order``: the one order the notes probe may write a note on (None: no notes probe, nothing written
    to any order). Deadlines bound how long the doctor waits for search and for the notes list to catch up."""

    notes_order: str | None = None
    search_deadline_s: float = 60.0
    search_slow_s: float = 10.0
    notes_deadline_s: float = 30.0


class Doctor:
    """Runs the checks against one account. ``clock``/``sleep`` (monotonic seconds) drive every wait."""

    def __init__(
        self,
        client: VtexClient,
        *,
        entity: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], Instant] = utc_now,
        verdict_dir: Path | bool | None = True,
    ) -> None:
        """``verdict_dir``: where the Master Data verdict is saved (True: the settings' cache dir; None/False: not
        saved)."""
        self.client = client
        self.verdict_dir: Path | None = (
            client.settings.cache_dir if verdict_dir is True else (Path(verdict_dir) if verdict_dir else None)
        )
        self.entity = entity or client.settings.entity
        self.head_entity = head_entity(self.entity)
        self.clock = clock
        self.sleep = sleep
        self.now = now
        self._token = secrets.token_hex(8)

    # -- plumbing -------------------------------------------------------------------------------------------------
    @staticmethod
    def _try(fn: Callable[[], T]) -> _Outcome:
        try:
            return _Outcome(fn())
        except VtexError as exc:
            return _Outcome(error=exc)

    def _wait_for(self, seen: Callable[[], bool], deadline_s: float) -> tuple[float, float] | None:
        """Poll ``seen()`` until it holds: ``(last_miss, first_hit)`` seconds after the start (0, 0 when it held at
        once), or None when it did not hold within ``deadline_s``. Checks every 0.25 s, then every second after 5 s."""
        start = self.clock()
        last_miss: float | None = None
        while True:
            if seen():
                if last_miss is None:  # held at the first look: at once, however long that call took
                    return 0.0, 0.0
                return last_miss, self.clock() - start
            last_miss = self.clock() - start
            if last_miss >= deadline_s:
                return None
            self.sleep(min(0.25 if last_miss < 5 else 1.0, deadline_s - last_miss))

    # -- the run --------------------------------------------------------------------------------------------------
    def run(self, options: DoctorOptions | None = None) -> DoctorReport:
        opts = options or DoctorOptions()
        t = self.client.transport
        report = DoctorReport(self.client.settings.account or "", t.base_url, self.now())

        with t.server_dates() as dates:  # VTEX's clock, as its answer gives it
            listing = self._try(lambda: CLASSIC.list_page(t, _LIST_PARAMS))
        ours = self.now()
        if isinstance(listing.error, (AuthenticationError, NetworkError)):
            self._stop_early(report, listing.error)
            return report
        # Which Orders API the account answers on: the classic one, or the PII data architecture's (read only)
        pii_listing = self._try(lambda: PII.list_page(t, _LIST_PARAMS))
        architecture = _architecture(listing, pii_listing)
        api = order_api(architecture == "pii" if architecture else self.client.settings.pii_architecture)
        classic_listing = listing
        if api is PII:
            listing = pii_listing

        order_id = _first_order_id(listing.value) if listing.ok else None
        returned = _Outcome()  # the newest orders with a return invoice: what their list rows say of it
        if listing.ok:
            returned = self._try(lambda: api.list_page(t, {**_LIST_PARAMS, "f_hasInputInvoice": "true"}))
        order = self._try(lambda: api.get(t, order_id or _ABSENT_ORDER))
        md_read = self._try(lambda: self.client.masterdata.get(self.head_entity, _ABSENT_HEAD_ID, fields="id"))
        admin = self._try(lambda: save_scratch_schema(self.client, force=True))  # before reading back by id
        ryw = self._try(self._read_your_writes)

        probes = [listing, order, md_read, ryw, admin]
        report.add(_credentials(probes))
        if all(p.denied for p in probes):
            for key, title in _PERMISSIONS + _LATER:
                report.add(
                    Check(key, title, Status.SKIPPED, "not told apart: VTEX denied every call", "fix the row above")
                )
            return report

        report.add(_permission("perm.oms-list", "Permission: list orders", listing, LIST_ORDERS))
        report.add(_permission("perm.oms-view", "Permission: view an order", order, VIEW_ORDER))
        report.add(_permission("perm.md-read", "Permission: read Master Data documents", md_read, MD_READ))
        report.add(_write_permission(ryw))
        schemas = [self._schema_check(e, s) for e, s in ((self.entity, ENTRY_SCHEMA), (self.head_entity, HEAD_SCHEMA))]
        report.add(_admin_permission(admin, all(c.status is Status.PASS for c in schemas)))
        report.add(_payments(order, self.client))
        report.add(_money_roles())
        for c in schemas:
            report.add(c)
        report.add(_read_your_writes(ryw, self._scratch_schema_missing(admin)))
        self._conditional_writes(report, ryw.ok)
        report.add(self._search_lag(opts, md_read.ok and ryw.ok))
        for row in search_answers(self.client, self.entity):
            report.add(row)
        report.add(_listing(listing))
        report.add(_clock(dates.earliest_ns, ours))
        report.add(
            _orders_api(architecture, classic_listing, pii_listing, order, self.client.settings.pii_architecture)
        )
        report.add(_list_rows(listing, order, order_id, returned))
        report.add(self._statuses(listing))
        report.add(_amounts(order, order_id, self.client.settings.zero_decimal_amounts))
        report.add(value_after_return(self.client, self.verdict_dir, self.now))
        report.add(gateway_dates(order.value if order.ok else None, self.client))
        report.add(item_prices(self.client))
        report.add(order_totals(order.value if order.ok else None, self.client))
        report.add(self._notes(opts))
        return report

    def _stop_early(self, report: DoctorReport, error: VtexError) -> None:
        if isinstance(error, AuthenticationError):
            report.add(
                Check(
                    "credentials",
                    "App key and token",
                    Status.FAIL,
                    "VTEX refused them (401)",
                    "check VTEX_APP_KEY and VTEX_APP_TOKEN in License Manager > Application keys: the key may have "
                    "been deleted or its token regenerated",
                )
            )
        else:
            report.unreachable = True
            report.add(
                Check(
                    "credentials",
                    "App key and token",
                    Status.FAIL,
                    f"VTEX could not be reached: {error}",
                    "check VTEX_ACCOUNT_NAME (or VTEX_BASE_URL) and this machine's network, then run doctor again",
                )
            )
        for key, title in _PERMISSIONS + _LATER:
            report.add(Check(key, title, Status.SKIPPED, "not run: the credentials did not work", "fix the row above"))

    # -- Master Data ----------------------------------------------------------------------------------------------
    def _read_your_writes(self) -> dict[str, Any]:
        """Write a scratch document twice, reading it back by id after each write. Raises on VTEX errors."""
        md = self.client.masterdata
        seen: dict[str, Any] = {"created": None, "updated": None}
        for n in (1, 2):
            token = f"{self._token}-{n}"
            md.put(SCRATCH_ENTITY, _RYW_ID, {"token": token, "n": n, "writtenAt": self.now().isoformat(3)})
            doc = md.get(SCRATCH_ENTITY, _RYW_ID, fields=["id", "token", "n"])
            seen["created" if n == 1 else "updated"] = (doc or {}).get("token") == token
        return seen

    def _scratch_schema_missing(self, admin: _Outcome) -> bool:
        if admin.ok:
            return False
        got = self._try(lambda: self.client.masterdata.get_schema(SCRATCH_ENTITY, SCRATCH_SCHEMA))
        return got.ok and got.value is None

    def _schema_check(self, entity: str, wanted: dict[str, Any]) -> Check:
        key, title = f"schema.{entity}", f"Ledger schema of {entity}"
        got = self._try(lambda: self.client.masterdata.get_schema(entity, SCHEMA_NAME))
        if got.denied:
            return Check(
                key, title, Status.SKIPPED, "not read: reading Master Data was denied", "fix the permission above"
            )
        if not got.ok:
            return Check(
                key,
                title,
                Status.FAIL,
                f"could not be read: {got.error}",
                "run doctor again; if it persists, check VTEX's status page",
            )
        if got.value is None:
            return Check(
                key,
                title,
                Status.FAIL,
                f"schema {SCHEMA_NAME} is not saved",
                "run `refundkit setup` (it needs Master Data administrator once)",
            )
        current: dict[str, Any] = got.value
        differs = sorted(k for k, v in wanted.items() if current.get(k) != v)
        indexed = list(wanted.get("v-indexed") or [])
        if differs:
            missing_idx = [f for f in indexed if f not in (current.get("v-indexed") or [])]
            what = f"differs from this refundkit's in {', '.join(differs)}"
            if missing_idx:
                what += f"; not indexed: {', '.join(missing_idx)}"
            return Check(
                key,
                title,
                Status.FAIL,
                f"schema {SCHEMA_NAME} {what}",
                "run `refundkit setup` to save this version's schema",
            )
        return Check(
            key,
            title,
            Status.PASS,
            f"schema {SCHEMA_NAME} saved as this refundkit writes it; indexed: {', '.join(indexed)}",
            figures={"indexed": indexed},
        )

    def _conditional_writes(self, report: DoctorReport, possible: bool) -> None:
        """Probe how Master Data answers conditional writes (the ledger's probe, on scratch documents), add a row per
        behaviour and the verdict, and save the verdict with its date under the cache dir."""
        rows = [
            ("cw.condition", "Conditional writes: a false _where"),
            ("cw.missing", "Conditional writes: _where on a missing document"),
            ("exactly-once", "Exactly once on this account"),
        ]
        if not possible:
            for key, title in rows:
                report.add(
                    Check(
                        key,
                        title,
                        Status.SKIPPED,
                        "not probed: writing scratch documents failed",
                        "fix the permission above",
                    )
                )
            return
        account = self.client.settings.account or "account"
        try:
            verdict = probe_master_data(self.client.masterdata, account=account, scratch_entity=SCRATCH_ENTITY)
        except (VtexError, LedgerError) as exc:
            for key, title in rows[:2]:
                report.add(Check(key, title, Status.SKIPPED, "not concluded: the probe failed", "see the row below"))
            report.add(
                Check(
                    rows[2][0],
                    rows[2][1],
                    Status.FAIL,
                    f"the conditional-write probe failed: {exc}",
                    "run doctor again; refundkit records nothing on this account until a probe concludes",
                )
            )
            return
        report.add(_condition_row(rows[0][0], rows[0][1], verdict))
        report.add(_missing_row(rows[1][0], rows[1][1], verdict))
        holds, why = verdict.exactly_once_holds()
        saved = ""
        if self.verdict_dir is not None:
            try:
                save_verdict(self.verdict_dir, verdict)
                report.verdict_path = str(verdict_path(self.verdict_dir, account))
                saved = "; verdict saved for `record` and `import`"
            except OSError as exc:
                saved = f"; the verdict could not be saved ({exc.strerror or exc}), so `record` will probe again"
        figures = verdict.as_dict()
        if holds:
            report.add(Check(rows[2][0], rows[2][1], Status.PASS, why + saved, figures=figures))
        else:
            report.add(
                Check(
                    rows[2][0],
                    rows[2][1],
                    Status.FAIL,
                    why + saved,
                    "`record`, `reverse` and `import` refuse to write on this account until `refundkit doctor` "
                    "finds otherwise; ask VTEX support about _where on Master Data v2 writes",
                    figures,
                )
            )

    def _search_lag(self, opts: DoctorOptions, possible: bool) -> Check:
        key, title = "search-lag", "Master Data search lag"
        if not possible:
            return Check(
                key, title, Status.SKIPPED, "not measured: reading or writing Master Data failed", "fix the rows above"
            )
        md, t = self.client.masterdata, self.client.transport
        token = f"{self._token}-lag"
        wrote = self._try(
            lambda: md.put(SCRATCH_ENTITY, _LAG_ID, {"token": token, "n": 0, "writtenAt": self.now().isoformat(3)})
        )
        if not wrote.ok:
            return Check(
                key, title, Status.SKIPPED, f"not measured: the scratch write failed: {wrote.error}", "run doctor again"
            )

        def seen() -> bool:
            response = t.request(
                "GET",
                f"/api/dataentities/{SCRATCH_ENTITY}/search",
                params={"id": _LAG_ID, "_fields": "id,token"},
                headers={"REST-Range": "resources=0-10"},
            )
            rows = response.json() if response is not None else []
            return isinstance(rows, list) and any(isinstance(r, dict) and r.get("token") == token for r in rows)

        lag = self._try(lambda: self._wait_for(seen, opts.search_deadline_s))
        if not lag.ok:
            return Check(
                key,
                title,
                Status.FAIL,
                f"search failed: {lag.error}",
                "run doctor again; if it persists, check VTEX's status page",
            )
        if lag.value is None:
            return Check(
                key,
                title,
                Status.FAIL,
                f"a document written {opts.search_deadline_s:.0f} s ago is still not found by search",
                "refunds recorded elsewhere will be missing from `refunds` and reports for a while; run doctor again "
                "later, and ask VTEX support if search stays behind",
                {"lag_s": None, "deadline_s": opts.search_deadline_s},
            )
        miss, seconds = lag.value
        figures = {"lag_s": round(seconds, 2), "deadline_s": opts.search_deadline_s}
        result = (
            f"search showed a write after {seconds:.1f} s{_not_yet(miss, seconds)} "
            "(refundkit never uses search to decide whether a refund exists)"
        )
        if seconds > opts.search_slow_s:
            return Check(
                key,
                title,
                Status.WARN,
                result,
                f"listings and reports may miss refunds recorded on other machines in the last {seconds:.0f} s; "
                "wait that long before reporting",
                figures,
            )
        return Check(key, title, Status.PASS, result, figures=figures)

    # -- notes ----------------------------------------------------------------------------------------------------
    # -- statuses -------------------------------------------------------------------------------------------------
    def _statuses(self, listing: _Outcome) -> Check:
        """Count the orders of the last :data:`STATUS_DAYS` days (up to the newest order listed) by status
        (``paging.total`` with ``f_status``, one call per documented status, at once), against the count of all of
        them: the difference has statuses refundkit does not know, named from the latest orders' rows. Also counts
        each group the sync checks in one call, to see that one filter naming several statuses counts their sum."""
        if not listing.ok:
            return Check("statuses", _STATUSES_TITLE, Status.SKIPPED, "not run: the order list was not readable")
        now, newest = self.now(), _newest_created(listing.value)
        end = newest if newest is not None and newest.ns < now.ns else now
        end = Instant(end.ns + (-end.ns % _SECOND))  # counts take whole seconds (list rows may carry no fraction)
        start = end - timedelta(days=STATUS_DAYS)
        orders = self.client.orders

        def count(statuses: list[str] | None) -> int:
            return orders.probe(start, end, statuses=statuses)[0]

        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                total_f = pool.submit(count, None)
                singles = {s: pool.submit(count, [s]) for s in sorted(DOCUMENTED)}
                grouped = [(g, pool.submit(count, list(g))) for g in LEFT_OUT_GROUPS]
                total = total_f.result()
                counts = {s: f.result() for s, f in singles.items()}
                groups = [(g, f.result()) for g, f in grouped]
            named: dict[str, int] = {}
            if total > sum(counts.values()):
                for status in self._unknown_statuses(start, end):
                    named[status] = count([status]) if status else 0
        except VtexError as exc:
            return Check(
                "statuses",
                _STATUSES_TITLE,
                Status.SKIPPED,
                f"could not count the orders by status: {exc}",
                "run doctor again later",
            )
        return _statuses_check(total, counts, dict(sorted(named.items(), key=lambda kv: -kv[1])), groups, STATUS_DAYS)

    def _unknown_statuses(self, start: Instant, end: Instant) -> list[str]:
        """The statuses refundkit does not know among the latest orders of ``[start, end]`` (up to
        :data:`_STATUS_PAGES` pages of 100), most frequent first."""
        seen: dict[str, int] = {}
        window = (
            f"creationDate:[{start.to_utc().floor_ms().filter_format()} TO {end.to_utc().ceil_ms().filter_format()}]"
        )
        for page in range(1, _STATUS_PAGES + 1):
            body = self.client.orders.api.list_page(
                self.client.transport,
                {
                    "f_creationDate": window,
                    "orderBy": "creationDate,desc",
                    "page": str(page),
                    "per_page": "100",
                    "incompleteOrders": "false",
                },
            )
            rows = body.get("list") if isinstance(body, dict) else None
            if not isinstance(rows, list) or not rows:
                break
            statuses = [r.get("status") if isinstance(r, dict) else None for r in rows]
            for status, n in unknown_counts([s if isinstance(s, str) else None for s in statuses]).items():
                seen[status] = seen.get(status, 0) + n
            if len(rows) < 100:
                break
        return [s for s, _ in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))]

    def _notes(self, opts: DoctorOptions) -> Check:
        key, title = "notes", "Order notes (Do): list shape and lag"
        if not opts.notes_order:
            return Check(
                key,
                title,
                Status.SKIPPED,
                "not run: it posts a note, and doctor writes to an order only when you pick one",
                "run `refundkit doctor --notes-order ORDER_ID` with an order of yours that may carry a test note",
            )
        try:
            oid = check_order_id(opts.notes_order)
        except RefundkitError as exc:
            return Check(key, title, Status.FAIL, str(exc), "pass a VTEX order id such as 1306331686122-01")
        t = self.client.transport
        exists = self._try(lambda: self.client.orders.get(oid))
        if not exists.ok:
            return Check(
                key, title, Status.FAIL, f"order {oid}: {exists.error}", "pick an order that exists on this account"
            )

        def listed() -> Any:
            return t.json("GET", "/api/do/notes", params={"target.id": oid, "perPage": "30", "page": "1"})

        first = self._try(listed)
        if not first.ok:
            return Check(key, title, Status.FAIL, f"listing notes failed: {first.error}", "run doctor again")
        shape = _notes_shape(first.value)
        if shape:
            return Check(
                key,
                title,
                Status.FAIL,
                f"the notes list has a shape refundkit does not read: {shape}",
                "do not record refunds until refundkit is updated for this shape; report it to refundkit's maintainers",
            )
        count = _notes_total(first.value)
        if count >= MAX_NOTES_PER_ORDER:
            return Check(
                key,
                title,
                Status.SKIPPED,
                f"order {oid} already holds {count} notes, VTEX's maximum; nothing posted",
                "pick an order with fewer than 30 notes",
            )
        marker = f"[refundkit-doctor:{self._token}]"
        text = (
            "refundkit doctor: a test note checking that notes are listed at once. It records no refund; "
            f"VTEX moved no money. {marker}"
        )
        posted = self._try(lambda: self.client.notes.create(oid, text))
        if not posted.ok:
            return Check(key, title, Status.FAIL, f"posting a note failed: {posted.error}", "run doctor again")

        def seen() -> bool:
            body = listed()
            items = body.get("items") if isinstance(body, dict) else None
            return isinstance(items, list) and any(marker in str((n or {}).get("description", "")) for n in items)

        lag = self._try(lambda: self._wait_for(seen, opts.notes_deadline_s))
        if not lag.ok:
            return Check(key, title, Status.FAIL, f"listing notes failed: {lag.error}", "run doctor again")
        base = f"list shape {{items, paging}} as refundkit reads it; a test note was posted on order {oid}"
        if lag.value is None:
            return Check(
                key,
                title,
                Status.FAIL,
                f"{base} and was still not listed after {opts.notes_deadline_s:.0f} s",
                "refundkit looks for a note before posting it again, which cannot work here: after a `record` that "
                "failed while posting its note, check the order's notes in the VTEX Admin before retrying or "
                "running `refundkit reconcile`",
                {"lag_s": None},
            )
        miss, seconds = lag.value
        if seconds > 0:
            wait = max(1, round(seconds * 2))
            late = f"{base} and was listed only after {seconds:.1f} s{_not_yet(miss, seconds)}"
            figures = {"lag_s": round(seconds, 2), "reconcile_grace_s": RECONCILE_GRACE_S}
            if wait > RECONCILE_GRACE_S:
                return Check(
                    key,
                    title,
                    Status.FAIL,
                    late + f", longer than the {RECONCILE_GRACE_S} s `refundkit reconcile` leaves to a recorder",
                    "after a `record` that failed while posting its note, check the order's notes in the VTEX Admin "
                    "before retrying or running `refundkit reconcile`, or the note may be posted twice",
                    figures,
                )
            return Check(
                key,
                title,
                Status.WARN,
                late,
                f"after a `record` that failed while posting its note, wait {wait} s before retrying it, so the note "
                f"is seen and not posted twice (`refundkit reconcile` leaves the last {RECONCILE_GRACE_S} s alone)",
                figures,
            )
        return Check(key, title, Status.PASS, f"{base} and was listed at once", figures={"lag_s": 0.0})


#: How far back ``refundkit doctor`` counts the orders of each status.
STATUS_DAYS = 30
_STATUS_PAGES = 5  # pages of 100 of the latest orders read to name a status refundkit does not know


def save_scratch_schema(client: VtexClient, *, force: bool = False) -> str:
    """Save the scratch entity's schema unless it is saved already (``force``: save anyway, which proves the key holds
    Master Data administrator). ``refundkit setup`` calls it. Returns a line saying what was done."""
    return _save_scratch_schema(client.masterdata, force=force)


def _payments(order: _Outcome, client: VtexClient) -> Check:
    """View Payment Data: optional, read only; without it balances say gateway refunds were not checked."""
    key, title = "perm.payments", "Permission: view payment data (optional)"
    if not client.settings.check_gateway:
        return Check(key, title, Status.SKIPPED, "not checked: REFUNDKIT_GATEWAY_REFUNDS=off", "")
    body = order.value if order.ok and isinstance(order.value, dict) else None
    try:
        parsed = Order.from_vtex(body, mode=client.settings.zero_decimal_amounts) if body else None
    except (RefundkitError, AmountError, ValueError):
        parsed = None
    if parsed is None or not parsed.transaction_ids:
        return Check(key, title, Status.SKIPPED, "no order with a payment transaction to try", "run doctor again later")
    tid = parsed.transaction_ids[0]
    got = Doctor._try(lambda: client.payments.transaction(tid, parsed.currency))
    if got.denied:
        return Check(
            key,
            title,
            Status.WARN,
            f"transaction {tid} answered 403: the key lacks the permission (then balances and reports say that "
            "refunds made in the payment gateway without a return invoice were not checked), or this transaction "
            "is another account's (a marketplace order's; the others are still checked)",
            "to count them, give the key 'PCI Gateway > Payment-Make Payments > View Payment Data' (read only; "
            "never 'Process payments')",
        )
    if got.ok:
        return Check(
            key, title, Status.PASS, f"allowed: transaction {tid} read (GET only; refundkit never posts there)"
        )
    return Check(key, title, Status.WARN, f"transaction {tid} could not be read: {got.error}", "run doctor again")
