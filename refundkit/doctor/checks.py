"""``refundkit doctor``: check, on the configured account, everything refundkit relies on.

Nobody can test refundkit against every VTEX account, and VTEX leaves several behaviours undocumented. The doctor
proves them on the merchant's own account, with calls that change nothing that matters:

* reads (an order list page, one order, a Master Data document by id, the ledger's schemas);
* writes only to documents of the scratch entity :data:`SCRATCH_ENTITY`, which refundkit never reads otherwise
  (fixed ids, overwritten on every run, so runs do not pile documents up);
* a note on an order only when the merchant names one (``notes_order``): notes cannot be deleted, so the doctor
  never writes to an order otherwise.

Waiting (search lag, notes lag) goes through the injected ``clock`` and ``sleep`` and is bounded by a deadline.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from ..errors import AuthenticationError, LedgerError, NetworkError, PermissionDenied, RefundkitError, VtexError
from ..ledger.reconcile import RECONCILE_GRACE_S
from ..ledger.schemas import ENTRY_SCHEMA, HEAD_SCHEMA, SCHEMA_NAME
from ..ledger.verdict import (
    SCRATCH_ENTITY,
    SCRATCH_SCHEMA,
    SCRATCH_SCHEMA_BODY,
    MasterDataVerdict,
    probe_master_data,
    save_verdict,
    verdict_path,
)
from ..ledger.verdict import save_scratch_schema as _save_scratch_schema
from ..money import VTEX_AMOUNT_MODES, AmountError, Money, currency_exponent, from_vtex_cents
from ..statuses import DOCUMENTED, LEFT_OUT_GROUPS, status_label, unknown_counts
from ..timeutil import Instant, clock_skew, parse_instant, utc_now
from ..vtex import Order, OrderSummary, VtexClient
from ..vtex.notes import MAX_NOTES_PER_ORDER
from ..vtex.oms import check_order_id
from ..vtex.orderapi import CLASSIC, PII, order_api
from .report import Check, DoctorReport, Status
from .searchvalues import SEARCH_ROWS, search_answers
from .vtexvalues import LATER_ROWS, gateway_dates, value_after_return

__all__ = [
    "MONEY_MOVING_RESOURCES",
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

LIST_ORDERS = "OMS > OMS access > List Orders"
VIEW_ORDER = "OMS > OMS access > View order"
MD_READ = "Dynamic Storage > Dynamic storage generic resources > Read only documents"
MD_WRITE = "Dynamic Storage > Dynamic storage generic resources > Insert or update document (not remove)"
MD_ADMIN = "Dynamic Storage > Dynamic storage generic resources > Master Data administrator"

#: License Manager resources that let a key move money (refund, cancel, change or invoice). refundkit needs none.
MONEY_MOVING_RESOURCES = (
    "OMS > OMS access > Notify invoice",
    "OMS > OMS access > Notify refund",
    "OMS > OMS access > Cancel order",
    "OMS > OMS access > Change order",
    "Checkout > CheckoutResources > Orders Full Access",
    "PCI Gateway > Payment-Make Payments > Process payments",
)


@dataclass(frozen=True)
class DoctorOptions:
    """``notes_order``: the one order the notes probe may write a note on (None: no notes probe, nothing written
    to any order). Deadlines bound how long the doctor waits for search and for the notes list to catch up."""

    notes_order: str | None = None
    search_deadline_s: float = 60.0
    search_slow_s: float = 10.0
    notes_deadline_s: float = 30.0


@dataclass
class _Outcome:
    """A probe call: its value, or the VTEX error it ended in."""

    value: Any = None
    error: VtexError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def denied(self) -> bool:
        return isinstance(self.error, PermissionDenied)


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
        self.head_entity = self.entity + "Order"
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


# -- rows built from probe outcomes -------------------------------------------------------------------------------

_STATUSES_TITLE = "Order statuses seen"
#: How far back ``refundkit doctor`` counts the orders of each status.
STATUS_DAYS = 30
_STATUS_PAGES = 5  # pages of 100 of the latest orders read to name a status refundkit does not know

_PERMISSIONS = [
    ("perm.oms-list", "Permission: list orders"),
    ("perm.oms-view", "Permission: view an order"),
    ("perm.md-read", "Permission: read Master Data documents"),
    ("perm.md-write", "Permission: write Master Data documents"),
    ("perm.md-admin", "Permission: Master Data administrator (setup only)"),
    ("perm.payments", "Permission: view payment data (optional)"),
    ("perm.money", "No role that moves money"),
]
_LATER = [
    ("schemas", "Ledger schemas"),
    ("read-your-writes", "Master Data read-your-writes by id"),
    ("cw.condition", "Conditional writes: a false _where"),
    ("cw.missing", "Conditional writes: _where on a missing document"),
    ("exactly-once", "Exactly once on this account"),
    ("search-lag", "Master Data search lag"),
    *SEARCH_ROWS,
    ("oms-list", "OMS order list"),
    ("clock", "This computer's clock against VTEX's"),
    ("orders-api", "Orders API: classic or PII data architecture"),
    ("list-rows", "Order list rows: dates and return invoices"),
    ("statuses", _STATUSES_TITLE),
    ("amounts", "Amounts of one real order"),
    ("notes", "Order notes (Do): list shape and lag"),
    *LATER_ROWS,
]


def _statuses_check(
    total: int,
    counts: dict[str, int],
    named: dict[str, int],
    groups: list[tuple[tuple[str, ...], int]],
    days: int,
) -> Check:
    """The row of :meth:`Doctor._statuses`: every status seen, those refundkit does not know named with their
    counts, and whether one ``f_status`` naming several statuses counts their sum (the sync's checks rely on it)."""
    known = sum(counts.values())
    unknown_total = max(total - known, 0)
    unnamed = max(unknown_total - sum(named.values()), 0)
    by_count = [(s, n) for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n]
    seen = ", ".join(f"{s} {n:,}" for s, n in by_count[:6]) + (
        f", {len(by_count) - 6} more" if len(by_count) > 6 else ""
    )
    odd = [f"{','.join(g)} counts {n:,}, its statuses one by one {sum(counts[s] for s in g):,}" for g, n in groups]
    odd = [o for (g, n), o in zip(groups, odd, strict=True) if n != sum(counts[s] for s in g)]
    figures = {
        "days": days,
        "total": total,
        "by_status": {s: n for s, n in counts.items() if n},
        "unknown": dict(named),
        "unknown_unnamed": unnamed,
        "several_statuses_in_one_filter": not odd,
    }
    head = f"last {days} days: {total:,} orders" + (f" ({seen})" if seen else "")
    if unknown_total:
        names = ", ".join(f"{status_label(s)} {n:,}" for s, n in named.items())
        if unnamed:
            names += (", and " if names else "") + f"{unnamed:,} whose status the latest orders did not show"
        return Check(
            "statuses",
            _STATUSES_TITLE,
            Status.WARN,
            f"{unknown_total:,} order(s) have a status refundkit does not know ({names}); {head}",
            "refundkit lists these orders and counts them in gross (the README's status table says why); check what "
            "the status means in the VTEX Admin, and if such orders are not sales, report it to refundkit's "
            "maintainers",
            figures,
        )
    if odd:
        return Check(
            "statuses",
            _STATUSES_TITLE,
            Status.WARN,
            f"one status filter naming several statuses does not count their sum ({'; '.join(odd)}); {head}",
            "the sync's status checks rely on it: run `refundkit sync --refresh` before a report you rely on, and "
            "report this to refundkit's maintainers",
            figures,
        )
    return Check("statuses", _STATUSES_TITLE, Status.PASS, f"every status is one refundkit knows; {head}", "", figures)


def _credentials(probes: list[_Outcome]) -> Check:
    if any(not p.denied and not isinstance(p.error, NetworkError) for p in probes):
        return Check("credentials", "App key and token", Status.PASS, "VTEX accepted them")
    return Check(
        "credentials",
        "App key and token",
        Status.FAIL,
        "VTEX answered 403 to every call: the key holds none of the resources below, or VTEX blocks this "
        "machine's IP address (it answers 403 then too)",
        "in License Manager, give the key's role the resources listed in the README; if it has them, run doctor "
        "from another network or ask VTEX support whether this IP is blocked",
    )


def _permission(key: str, title: str, outcome: _Outcome, resource: str) -> Check:
    if outcome.denied:
        return Check(
            key, title, Status.FAIL, "VTEX denied it (403)", f"give the app key's role the resource '{resource}'"
        )
    if outcome.ok:
        return Check(key, title, Status.PASS, "allowed")
    return Check(
        key,
        title,
        Status.FAIL,
        f"the probe failed: {outcome.error}",
        "run doctor again; if it persists, check VTEX's status page",
    )


def _write_permission(ryw: _Outcome) -> Check:
    return _permission("perm.md-write", "Permission: write Master Data documents", ryw, MD_WRITE)


def _admin_permission(admin: _Outcome, schemas_current: bool) -> Check:
    key, title = "perm.md-admin", "Permission: Master Data administrator (setup only)"
    if admin.denied:
        if schemas_current:
            return Check(key, title, Status.PASS, "not held, and not needed: the ledger's schemas are saved")
        return Check(
            key,
            title,
            Status.FAIL,
            "not held, and the ledger's schemas are not saved",
            f"give the key '{MD_ADMIN}', run `refundkit setup`, then remove it again",
        )
    if admin.ok:
        return Check(
            key,
            title,
            Status.WARN,
            f"held (a schema was saved on the scratch entity {SCRATCH_ENTITY})",
            "only `refundkit setup` needs it, and it also lets the key delete ledger documents: remove it after setup",
        )
    return Check(key, title, Status.FAIL, f"the probe failed: {admin.error}", "run doctor again")


def _money_roles() -> Check:
    return Check(
        "perm.money",
        "No role that moves money",
        Status.WARN,
        "cannot be checked with this key: VTEX shows a key's roles only to keys allowed to read License Manager, "
        "which refundkit's key must not be",
        "in License Manager > Roles, check that no role of this key holds "
        + ", ".join(r.rsplit(" > ", 1)[1] for r in MONEY_MOVING_RESOURCES),
        {"resources_to_avoid": list(MONEY_MOVING_RESOURCES)},
    )


def save_scratch_schema(client: VtexClient, *, force: bool = False) -> str:
    """Save the scratch entity's schema unless it is saved already (``force``: save anyway, which proves the key holds
    Master Data administrator). ``refundkit setup`` calls it. Returns a line saying what was done."""
    return _save_scratch_schema(client.masterdata, force=force)


def _read_your_writes(ryw: _Outcome, scratch_schema_missing: bool) -> Check:
    key, title = "read-your-writes", "Master Data read-your-writes by id"
    if not ryw.ok:
        return Check(
            key, title, Status.SKIPPED, "not run: writing the scratch document failed", "fix the permission above"
        )
    seen: dict[str, Any] = ryw.value
    if seen.get("created") and seen.get("updated"):
        return Check(
            key, title, Status.PASS, f"a created and an updated document of {SCRATCH_ENTITY} read back at once by id"
        )
    which = "a new document" if not seen.get("created") else "an update"
    if scratch_schema_missing:
        return Check(
            key,
            title,
            Status.FAIL,
            f"reading by id right after writing did not return {which}, on a scratch entity without the schema that "
            "turns VTEX's cache off as the ledger's schemas do",
            "run `refundkit setup` (it saves that schema), then doctor again",
            dict(seen),
        )
    return Check(
        key,
        title,
        Status.FAIL,
        f"reading by id right after writing did not return {which}",
        "do not record refunds on this account: exactly-once needs reads by id to see the last write; ask VTEX "
        "support about Master Data caching (v-cache)",
        dict(seen),
    )


def _condition_row(key: str, title: str, v: MasterDataVerdict) -> Check:
    figures = {"failed_condition_status": v.failed_condition_status}
    if not v.conditions_honoured:
        return Check(
            key,
            title,
            Status.FAIL,
            f"ignored: a write under a false condition was applied (VTEX answered {v.failed_condition_status})",
            "two recorders at once could overwrite each other here: refundkit refuses to record (see below)",
            figures,
        )
    if not v.holding_condition_applied:
        return Check(
            key,
            title,
            Status.FAIL,
            "a write under a true condition was not applied",
            "refundkit cannot append to an order's ledger here and refuses to record (see below)",
            figures,
        )
    return Check(
        key,
        title,
        Status.PASS,
        f"honoured: it changed nothing, answered {v.failed_condition_status} (refundkit decides by reading back, "
        "never by the status); a true one applied",
        figures=figures,
    )


def _missing_row(key: str, title: str, v: MasterDataVerdict) -> Check:
    figures = {"missing_document": v.missing_document}
    if v.missing_document == "refused":
        return Check(
            key,
            title,
            Status.FAIL,
            "refused, even `version is null`: an order's first refund could only be written unconditionally",
            "refundkit refuses to record here rather than risk overwriting another recorder's refund (see below)",
            figures,
        )
    how = (
        "ignored: the document was created"
        if v.missing_document == "created"
        else "evaluated against an empty document: `version is null` holds"
    )
    return Check(
        key,
        title,
        Status.PASS,
        f"{how}; an order's first entry is created under `version is null` and read back",
        figures=figures,
    )


def _listing(listing: _Outcome) -> Check:
    key, title = "oms-list", "OMS order list"
    if not listing.ok:
        return Check(
            key,
            title,
            Status.SKIPPED if listing.denied else Status.FAIL,
            f"no list: {listing.error}",
            "fix the permission above" if listing.denied else "run doctor again",
        )
    body = listing.value
    rows = body.get("list") if isinstance(body, dict) else None
    paging = body.get("paging") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not isinstance(paging, dict) or not isinstance(paging.get("total"), int):
        return Check(
            key,
            title,
            Status.FAIL,
            "the order list lacks 'list' or 'paging.total'",
            "report this answer to refundkit's maintainers",
        )
    incomplete = [str(r.get("orderId")) for r in rows if isinstance(r, dict) and r.get("orderIsComplete") is False]
    if incomplete:
        return Check(
            key,
            title,
            Status.FAIL,
            f"incompleteOrders=false was ignored: incomplete order(s) {', '.join(incomplete[:3])} listed",
            "do not trust gross revenue from refundkit on this account until this is resolved with VTEX support",
        )
    unreadable = []
    for r in rows:
        try:
            OrderSummary.from_vtex(r)
        except (RefundkitError, AmountError, ValueError, TypeError, AttributeError) as exc:
            unreadable.append(f"{(r or {}).get('orderId') if isinstance(r, dict) else r}: {exc}")
    figures = {"rows": len(rows), "total": paging["total"]}
    if unreadable:
        return Check(
            key,
            title,
            Status.WARN,
            f"{len(unreadable)} of {len(rows)} listed orders unreadable, e.g. {unreadable[0]}",
            "these orders will be set aside in listings and reports; check them in the VTEX Admin",
            figures,
        )
    return Check(
        key,
        title,
        Status.PASS,
        f"one page read: {len(rows)} of {paging['total']:,} orders, incompleteOrders=false honoured",
        figures=figures,
    )


def _clock(vtex_ns: int | None, ours: Instant) -> Check:
    """A sync counts as covered only what VTEX's clock (its answers' Date) had reached: say how far ours is off."""
    key, title = "clock", "This computer's clock against VTEX's"
    if vtex_ns is None:
        return Check(
            key,
            title,
            Status.SKIPPED,
            "not compared: VTEX's answer carried no Date header (a proxy may remove it); syncs count as covered what "
            "the newest order listed shows, and list a little more again each time",
            "if a proxy sits in front of VTEX, let it pass the Date header, then run doctor again",
        )
    figures = {"vtex": Instant(vtex_ns).isoformat(0), "ours": ours.isoformat(0)}
    skew = clock_skew(ours.ns, vtex_ns)
    if skew:
        return Check(
            key,
            title,
            Status.WARN,
            f"{skew} (VTEX says {figures['vtex']})",
            "set this computer's clock (NTP); meanwhile syncs count as covered only what VTEX's clock had reached",
            figures,
        )
    return Check(key, title, Status.PASS, "within a few minutes of VTEX's (its answers' Date)", figures=figures)


def _list_readable(listing: _Outcome) -> bool:
    body = listing.value if listing.ok else None
    paging = body.get("paging") if isinstance(body, dict) else None
    return (
        isinstance(body, dict) and isinstance(body.get("list"), list) and isinstance((paging or {}).get("total"), int)
    )


def _architecture(classic: _Outcome, pii: _Outcome) -> str | None:
    """``classic`` when the classic order list reads back as a list; ``pii`` when it does not answer (refused,
    redirected or not found: VTEX does not say how) while the PII data architecture's list reads back as one; None
    when neither does (the permission rows say why). Decided by what reads back, never by one status."""
    if _list_readable(classic):
        return "classic"
    if not classic.ok and _list_readable(pii):
        return "pii"
    return None


_PII_MEANS = (
    "refundkit reads its orders through GET /api/orders/pvt/document/{id} and POST /api/orders/extendsearch/orders "
    "(read only), and customer data comes masked{masked}, which refundkit does not need"
)


def _orders_api(
    architecture: str | None, classic: _Outcome, pii: _Outcome, order: _Outcome, configured_pii: bool
) -> Check:
    """Whether the account is on VTEX's PII data architecture, and whether ``REFUNDKIT_PII_ARCHITECTURE`` says so."""
    key, title = "orders-api", "Orders API: classic or PII data architecture"
    setting = f"REFUNDKIT_PII_ARCHITECTURE={'on' if configured_pii else 'off'}"
    figures = {"architecture": architecture, "setting": "on" if configured_pii else "off"}
    if architecture is None:
        return Check(
            key,
            title,
            Status.SKIPPED,
            f"not told: neither order list answered (classic: {classic.error}; PII data architecture: {pii.error})",
            "fix the permission rows above, then run doctor again",
            figures,
        )
    if architecture == "classic":
        if not configured_pii:
            return Check(
                key, title, Status.PASS, "classic: the OMS order endpoints answer (not the PII data architecture)"
            )
        if _list_readable(pii):
            return Check(
                key,
                title,
                Status.PASS,
                f"both answer; {setting}, so refundkit reads orders through the PII data architecture's endpoints",
                figures=figures,
            )
        return Check(
            key,
            title,
            Status.FAIL,
            f"{setting}, but the PII data architecture's order list does not answer ({pii.error}); the classic one "
            "does",
            "set REFUNDKIT_PII_ARCHITECTURE=off: this account is not on VTEX's PII data architecture",
            figures,
        )
    body = order.value if order.ok and isinstance(order.value, dict) else {}
    read = f", order {body.get('orderId')} read back through it" if body.get("orderId") else ""
    masked = " (piiHidden)" if body.get("piiHidden") is True else ""
    refused = f"VTEX answered {classic.error.status}" if classic.error and classic.error.status else "no answer"
    result = (
        f"on VTEX's PII data architecture: the classic order list does not answer ({refused}), the PII one "
        f"does{read}. So {_PII_MEANS.replace('{masked}', masked)}"
    )
    if configured_pii:
        return Check(key, title, Status.PASS, result, figures=figures)
    return Check(
        key,
        title,
        Status.FAIL,
        result,
        "set REFUNDKIT_PII_ARCHITECTURE=on (in the environment or .env): until then refundkit cannot read this "
        "account's orders",
        figures,
    )


def _list_rows(listing: _Outcome, order: _Outcome, order_id: str | None, returned: _Outcome) -> Check:
    """What VTEX leaves open about list rows, as this account answers: how exact ``creationDate`` is (a row against
    the same order read by id, which carries 7 decimals) and whether rows name return invoices (``invoiceInput``,
    not in the ListOrders schema) — looked at on orders the ``f_hasInputInvoice=true`` listing says have one."""
    key, title = "list-rows", "Order list rows: dates and return invoices"
    rows = listing.value.get("list") if listing.ok and isinstance(listing.value, dict) else None
    if not isinstance(rows, list):
        return Check(key, title, Status.SKIPPED, "no order list to look at", "fix the rows above")
    dates, date_text, figures = _date_precision([r for r in rows if isinstance(r, dict)], order, order_id)
    invoices, invoice_text, invoice_order = _invoice_field(returned)
    figures.update(dates=dates, invoice_input=invoices, return_invoice_order=invoice_order)
    result = (
        f"{date_text}; {invoice_text}. refundkit cuts every range on a whole second, so no order falls between two "
        "ranges whichever precision rows carry, and learns which orders have return invoices from the "
        "f_hasInputInvoice=true listing, never from invoiceInput alone"
    )
    if dates == "different":
        return Check(
            key,
            title,
            Status.WARN,
            result,
            "report this to refundkit's maintainers: a list row dated other than its order may be listed in the "
            "range next to the right one",
            figures,
        )
    return Check(key, title, Status.PASS, result, figures=figures)


def _date_precision(
    rows: list[dict[str, Any]], order: _Outcome, order_id: str | None
) -> tuple[str, str, dict[str, Any]]:
    """("exact" | "seconds" | "<n> decimals" | "different" | "unknown", the verdict in words, figures)."""
    row = next((r for r in rows if r.get("orderId") == order_id), None)
    listed = row.get("creationDate") if row else None
    read = order.value.get("creationDate") if order.ok and isinstance(order.value, dict) else None
    figures: dict[str, Any] = {"order_id": order_id, "list_creation_date": listed, "order_creation_date": read}
    try:
        a, b = parse_instant(str(listed)), parse_instant(str(read))
    except ValueError:
        return "unknown", "list rows' date precision unknown (no order could be compared with its list row)", figures
    seen = f"order {order_id}: {listed} on the list, {read} read by id"
    fraction = re.search(r"\.(\d+)", str(listed))
    digits = len(fraction.group(1)) if fraction else 0
    if a.ns == b.ns and (b.ns % 1_000_000_000 or digits):
        return "exact", f"list rows date orders as exactly as the order itself ({seen})", figures
    if a.ns == b.ns:
        return (
            "unknown",
            f"list rows' date precision not told apart: the order was placed on a whole second ({seen})",
            figures,
        )
    if digits < 7 and a.ns <= b.ns < a.ns + 10 ** (9 - digits):
        what = "whole seconds" if digits == 0 else f"{digits} decimals"
        return (
            ("seconds" if digits == 0 else f"{digits} decimals"),
            f"list rows date orders in {what}, truncated ({seen})",
            figures,
        )
    return "different", f"a list row's date differs from its order's ({seen})", figures


def _invoice_field(returned: _Outcome) -> tuple[str, str, str | None]:
    """("present" | "absent" | "null" | "empty" | "unknown", the verdict in words, the order looked at)."""
    body = returned.value if returned.ok and isinstance(returned.value, dict) else None
    rows = [r for r in (body or {}).get("list") or [] if isinstance(r, dict)]
    if body is None:
        return "unknown", "whether list rows name return invoices is unknown (no f_hasInputInvoice listing)", None
    if not rows:
        return "unknown", "whether list rows name return invoices is not told apart: no order has one yet", None
    row = rows[0]
    oid = str(row.get("orderId"))
    name = "invoiceInput" if "invoiceInput" in row or "invoicesInput" not in row else "invoicesInput"
    if name not in row:
        return "absent", f"list rows carry no invoiceInput, even order {oid}, which has a return invoice", oid
    value = row[name]
    if value is None:
        return "null", f"list rows carry invoiceInput null, even order {oid}, which has a return invoice", oid
    if value in ("", []) or (isinstance(value, list) and not [v for v in value if v not in (None, "")]):
        return "empty", f"list rows carry invoiceInput empty, even order {oid}, which has a return invoice", oid
    return "present", f"list rows name return invoices in {name} (order {oid})", oid


def _amounts(order: _Outcome, order_id: str | None, mode: str) -> Check:
    """One real order's value as VTEX sent it and as refundkit reads it (``mode``: REFUNDKIT_ZERO_DECIMAL_AMOUNTS)."""
    key, title = "amounts", "Amounts of one real order"
    if order_id is None:
        return Check(
            key, title, Status.SKIPPED, "no order listed to show", "run doctor again once the account has an order"
        )
    if not order.ok or order.value is None:
        return Check(key, title, Status.SKIPPED, f"order {order_id} could not be read", "fix the permission above")
    body: dict[str, Any] = order.value
    prefs = body.get("storePreferencesData") or {}
    digits = (prefs.get("currencyFormatInfo") or {}).get("CurrencyDecimalDigits")
    raw_value: Any = body.get("value")
    currency = str(prefs.get("currencyCode") or body.get("currencyCode") or "")
    readings: dict[str, str] = {}
    for m in VTEX_AMOUNT_MODES:
        try:
            readings[m] = str(Money(from_vtex_cents(raw_value, currency, m), currency))
        except (AmountError, ValueError, TypeError):
            continue
    try:
        parsed = Order.from_vtex(body, mode=mode)
    except (RefundkitError, AmountError, ValueError) as exc:
        other = [m for m in readings if m != mode]
        action = (
            f"if order {order_id}'s total in the VTEX Admin is {readings[other[0]]}, set "
            f"REFUNDKIT_ZERO_DECIMAL_AMOUNTS={other[0]}; otherwise report this order to refundkit's maintainers"
            if other
            else "report this order's JSON (without personal data) to refundkit's maintainers"
        )
        return Check(key, title, Status.FAIL, f"order {order_id} cannot be read: {exc}", action)
    parts = ", ".join(f"{k} {v}" for k, v in parsed.totals.items())
    result = f"order {order_id}: VTEX sent value {raw_value} ({parts or 'no totals'}); refundkit reads {parsed.total}"
    figures = {
        "order_id": order_id,
        "currency": parsed.currency,
        "vtex_value": raw_value,
        "refundkit_minor": parsed.total.minor,
        "currency_decimal_digits": digits,
        "zero_decimal_amounts": mode,
    }
    exponent = currency_exponent(parsed.currency)
    if exponent != 2 or (isinstance(digits, int) and digits != exponent):
        other = [m for m in readings if m != mode and readings[m] != str(parsed.total)]
        alternative = f"; if it is {readings[other[0]]}, set REFUNDKIT_ZERO_DECIMAL_AMOUNTS={other[0]}" if other else ""
        return Check(
            key,
            title,
            Status.WARN,
            f"{result}, reading {parsed.currency} amounts as {mode} (REFUNDKIT_ZERO_DECIMAL_AMOUNTS; VTEX does not "
            "say which it sends)",
            f"open order {order_id} in the VTEX Admin and confirm its total is {parsed.total}{alternative}",
            figures,
        )
    return Check(key, title, Status.PASS, result + " (cents, as VTEX documents)", figures=figures)


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


def _not_yet(miss: float, hit: float) -> str:
    return f" (not yet at {miss:.1f} s)" if 0 < miss < hit else ""


def _newest_created(body: Any) -> Instant | None:
    """The creation date of the first row of a list sorted newest first (None when it has none readable)."""
    rows = body.get("list") if isinstance(body, dict) else None
    first = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
    try:
        return parse_instant(first["creationDate"]).ceil_ms() if first.get("creationDate") else None
    except (ValueError, TypeError):
        return None


def _first_order_id(body: Any) -> str | None:
    rows = body.get("list") if isinstance(body, dict) else None
    for r in rows or []:
        if isinstance(r, dict) and isinstance(r.get("orderId"), str):
            return str(r["orderId"])
    return None


def _notes_shape(body: Any) -> str:
    """What is wrong with a notes list answer, or "" when refundkit can read it."""
    if not isinstance(body, dict):
        return f"a {type(body).__name__}, not an object"
    items = body.get("items")
    if not isinstance(items, list):
        return f"no 'items' list (keys: {', '.join(sorted(body)) or 'none'})"
    for n in items:
        if not isinstance(n, dict) or not n.get("id") or not isinstance(n.get("description"), str):
            return "a note without 'id' or 'description'"
    return ""


def _notes_total(body: dict[str, Any]) -> int:
    paging = body.get("paging") or {}
    total = paging.get("total") if isinstance(paging, dict) else None
    return total if isinstance(total, int) else len(body.get("items") or [])
