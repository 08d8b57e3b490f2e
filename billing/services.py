"""Writes of billing: tariffs, calendar, the ledger, billing runs and held bills.

Every function takes keyword arguments only, runs in one transaction (a billing run: one per
chunk) and raises :class:`billing.errors.BillingError` with nothing written when it refuses.

**Ledger** (``ledger_post``, ``ledger_reverse``): the only writers of ``LedgerEntry``. Posted
entries are never edited (the database refuses it); a correction is a reversal entry.

**Billing run** (``billing_run_start`` → Celery ``billing_run_task`` → ``billing_run_execute``):
chunks of ``chunk_size`` accounts of the cycle in id order; each chunk is one transaction that
takes the cycle's advisory lock, locks the run row, computes every line of the chunk in SQL
(:mod:`billing.run_sql`), inserts bills (``ON CONFLICT DO NOTHING`` on the one-live-bill-per-
account-and-period constraint), their lines and ledger entries, and moves the run's ``cursor``
past the chunk. A run killed at any point resumes from its cursor (``billing_run_resume``) and
ends with exactly the bills of a clean run; re-running a finished period creates nothing.
``billing_run_cancel`` stops it between chunks; ``billing_run_reverse`` reverses every ledger
entry of its bills and marks them reversed (a new run of the period may then be started).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import pricing, run_sql
from billing.errors import BillingError
from billing.models import (
    AccountDiscount,
    Bill,
    BillingCalendar,
    BillingCycle,
    BillingRun,
    BillLine,
    BillMethod,
    BillStatus,
    HoldPolicy,
    LedgerEntry,
    RunStatus,
    Tariff,
    TariffBlock,
    TariffDiscount,
    TariffSet,
    TariffSetStatus,
)
from billing.pricing import TariffSetSpec
from cadastre.models import AccountStatus, ServiceAccount
from gis_core.sql import execute
from metering.models import ReadingPeriod
from sectors.models import TariffZone

# The advisory-lock class of billing (pg_advisory_xact_lock(class, hashtext(cycle))).
LOCK_CLASS = 8
HISTORY_PERIODS = 6
DEFAULT_CHUNK = 5000

# --- tariffs ------------------------------------------------------------------------------------


def tariff_set_import(*, spec: TariffSetSpec) -> TariffSet:
    """Create a draft tariff set from a parsed file (:func:`billing.tariff_io.tariff_set_parse`).

    Raises ``duplicate_code`` (a set with the code exists) and ``unknown_zone`` (a tariff names
    a tariff zone that does not exist)."""
    zones = dict(TariffZone.objects.values_list("code", "id"))
    missing = sorted({t.zone for t in spec.tariffs if t.zone and t.zone not in zones})
    if missing:
        raise BillingError(
            "unknown_zone",
            _("Unknown tariff zones: %(codes)s. Draw them first or fix the file.")
            % {"codes": ", ".join(missing)},
            field="zone",
        )
    if TariffSet.objects.filter(code=spec.code).exists():
        raise BillingError(
            "duplicate_code",
            _("A tariff set with code %(code)s exists; give the new one another code.")
            % {"code": spec.code},
            field="code",
        )
    with transaction.atomic():
        tariff_set = TariffSet.objects.create(
            code=spec.code,
            name=spec.name,
            valid_from=spec.valid_from,
            valid_to=spec.valid_to,
            vat_rate=spec.vat_rate,
            rounding_unit=spec.rounding_unit,
            late_fee_pct=spec.late_fee_pct,
        )
        for d in spec.discounts:
            TariffDiscount.objects.create(
                tariff_set=tariff_set, code=d.code, name=d.name, pct=d.pct, cap_m3=d.cap_m3
            )
        for t in spec.tariffs:
            tariff = Tariff.objects.create(
                tariff_set=tariff_set,
                use_type=t.use_type,
                zone_id=zones[t.zone] if t.zone else None,
                fixed_charge=t.fixed_charge,
                block_method=t.block_method,
                minimum_m3=t.minimum_m3,
                sewer_pct=t.sewer_pct,
                sanitation_pct=t.sanitation_pct,
                vat=t.vat,
                flat_rate=t.flat_rate,
            )
            TariffBlock.objects.bulk_create(
                TariffBlock(
                    tariff=tariff, number=n, from_m3=b.from_m3, to_m3=b.to_m3, price=b.price
                )
                for n, b in enumerate(t.blocks, start=1)
            )
    return tariff_set


def tariff_set_adopt(*, tariff_set: TariffSet) -> TariffSet:
    """Make a draft set the tariff of its dates. Raises ``overlapping_tariff`` when an adopted
    set covers any of them (close its validity first)."""
    try:
        with transaction.atomic():
            TariffSet.objects.filter(pk=tariff_set.pk).update(status=TariffSetStatus.ADOPTED)
    except IntegrityError:
        raise BillingError(
            "overlapping_tariff",
            _("Another adopted tariff set covers some of these dates; set its end date first."),
            field="valid_from",
        ) from None
    tariff_set.refresh_from_db()
    return tariff_set


def tariff_set_close(*, tariff_set: TariffSet, valid_to: dt.date) -> TariffSet:
    """End a set's validity (before adopting its successor)."""
    if valid_to < tariff_set.valid_from:
        raise BillingError(
            "invalid_dates", _("The end date must not be before the start date."), field="valid_to"
        )
    tariff_set.valid_to = valid_to
    tariff_set.save(update_fields=["valid_to"])
    return tariff_set


# --- calendar -----------------------------------------------------------------------------------


def billing_cycle_save(*, code: str, name: str, months: int = 1, areas=()) -> BillingCycle:
    """Create or update a cycle and the sectors/books it is tied to."""
    with transaction.atomic():
        cycle, _created = BillingCycle.objects.update_or_create(
            code=code, defaults={"name": name, "months": months}
        )
        if areas:
            cycle.areas.set(areas)
    return cycle


def calendar_entry_save(
    *,
    cycle: BillingCycle,
    period: ReadingPeriod,
    reading_from: dt.date,
    reading_to: dt.date,
    billing_date: dt.date,
    due_date: dt.date,
    cutoff_date: dt.date,
) -> BillingCalendar:
    """The dates of a period of the cycle. Raises ``wrong_cycle`` and ``invalid_dates`` (they
    must follow reading window ≤ billing ≤ due ≤ cut-off)."""
    if period.cycle != cycle.code:
        raise BillingError(
            "wrong_cycle",
            _("Period %(period)s belongs to cycle %(other)s, not %(cycle)s.")
            % {"period": period.code, "other": period.cycle, "cycle": cycle.code},
            field="period",
        )
    if not (reading_from <= reading_to <= billing_date <= due_date <= cutoff_date):
        raise BillingError(
            "invalid_dates",
            _("Dates must follow: reading window, billing date, due date, cut-off date."),
        )
    with transaction.atomic():
        entry, _created = BillingCalendar.objects.update_or_create(
            period=period,
            defaults={
                "cycle": cycle,
                "reading_from": reading_from,
                "reading_to": reading_to,
                "billing_date": billing_date,
                "due_date": due_date,
                "cutoff_date": cutoff_date,
            },
        )
    return entry


# --- ledger -------------------------------------------------------------------------------------


def ledger_post(
    *,
    account: ServiceAccount | int,
    document_type: str,
    document_id: int,
    concept: str,
    amount: Decimal,
    note: str = "",
    posted_at: dt.datetime | None = None,
    due_date: dt.date | None = None,
) -> LedgerEntry:
    """Post one amount to an account (positive: owed by the customer, falling due on
    ``due_date`` if given; negative: paid or credited). Raises ``zero_amount`` and
    ``not_decimal`` (money is never a float)."""
    if not isinstance(amount, Decimal):
        raise BillingError("not_decimal", _("Amounts must be decimal numbers."), field="amount")
    amount = pricing.money(amount)
    if amount == 0:
        raise BillingError("zero_amount", _("A ledger entry needs an amount."), field="amount")
    return LedgerEntry.objects.create(
        account_id=getattr(account, "pk", account),
        document_type=document_type,
        document_id=document_id,
        concept=concept,
        amount=amount,
        note=note,
        posted_at=posted_at or timezone.now(),
        due_date=due_date if amount > 0 else None,
    )


def ledger_reverse(*, entry: LedgerEntry, note: str = "") -> LedgerEntry:
    """Post the opposite of ``entry``. Raises ``already_reversed`` (it was reversed before) and
    ``is_reversal`` (a reversal is not reversed; post the amount again instead)."""
    if entry.reversal_of_id is not None:
        raise BillingError(
            "is_reversal", _("A reversal cannot be reversed; post the amount again.")
        )
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                account_id=entry.account_id,
                document_type=entry.document_type,
                document_id=entry.document_id,
                concept=entry.concept,
                amount=-entry.amount,
                reversal_of=entry,
                note=note,
            )
    except IntegrityError:
        raise BillingError(
            "already_reversed", _("This entry was already reversed."), status=409
        ) from None


# SQL: the ledger entries of bills, one per concept (VAT apart), from their stored lines: what
# the ledger says of a bill is what the bill shows. ``{bills}``: a sub-select of the bills'
# ``id, account_id`` (the issued bills of a chunk, or one released or corrected bill).
_POST_BILLS_SQL = """
INSERT INTO billing_ledgerentry (account_id, document_type, document_id, concept, amount,
                                 posted_at, note, due_date)
SELECT b.account_id, 'bill', b.id, l.concept, sum(l.amount), now(), '', b.due_date
  FROM ({bills}) b JOIN billing_billline l ON l.bill_id = b.id
 GROUP BY b.account_id, b.id, b.due_date, l.concept HAVING sum(l.amount) <> 0
UNION ALL
SELECT b.account_id, 'bill', b.id, 'vat', sum(l.tax), now(), '', b.due_date
  FROM ({bills}) b JOIN billing_billline l ON l.bill_id = b.id
 GROUP BY b.account_id, b.id, b.due_date HAVING sum(l.tax) <> 0
"""
_LEDGER_FROM_NEW = _POST_BILLS_SQL.format(
    bills="SELECT id, account_id, due_date FROM billing_new WHERE status = 'issued'"
)


def _post_bill(bill: Bill) -> None:
    """Ledger entries of one bill from its lines (a released or corrected bill)."""
    execute(
        _POST_BILLS_SQL.format(
            bills="SELECT id, account_id, due_date FROM billing_bill WHERE id = %(bill)s"
        ),
        {"bill": bill.pk},
    )


# --- billing runs -------------------------------------------------------------------------------


def _lock_cycle(cycle_code: str) -> None:
    execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_CLASS, cycle_code])


def _billable_accounts(cycle_code: str):
    return ServiceAccount.objects.filter(billing_cycle=cycle_code).exclude(
        status=AccountStatus.INACTIVE
    )


def tariff_set_for(day: dt.date) -> TariffSet | None:
    return (
        TariffSet.objects.filter(status=TariffSetStatus.ADOPTED, valid_from__lte=day)
        .exclude(valid_to__lt=day)
        .first()
    )


def billing_run_start(
    *, period: ReadingPeriod, user=None, chunk_size: int = DEFAULT_CHUNK, enqueue: bool = True
) -> BillingRun:
    """Create the run of ``period`` and queue it after commit.

    Raises ``no_calendar`` (the period has no billing dates), ``no_tariff_set`` (no adopted
    tariff set on the billing date), ``run_exists`` (the period has a run that is not
    reversed: resume, cancel or reverse it)."""
    calendar = BillingCalendar.objects.select_related("cycle").filter(period=period).first()
    if calendar is None:
        raise BillingError(
            "no_calendar",
            _(
                "Period %(period)s of cycle %(cycle)s has no billing dates; add them to the calendar."
            )
            % {"period": period.code, "cycle": period.cycle},
            field="period",
        )
    tariff_set = tariff_set_for(calendar.billing_date)
    if tariff_set is None:
        raise BillingError(
            "no_tariff_set",
            _("No adopted tariff set is valid on %(date)s; adopt one first.")
            % {"date": calendar.billing_date.isoformat()},
        )
    if chunk_size < 1:
        raise BillingError(
            "invalid_chunk", _("A chunk needs at least one account."), field="chunk_size"
        )
    try:
        with transaction.atomic():
            _lock_cycle(period.cycle)
            run = BillingRun.objects.create(
                cycle=calendar.cycle,
                period=period,
                tariff_set=tariff_set,
                chunk_size=chunk_size,
                total_accounts=_billable_accounts(period.cycle).count(),
                created_by=user,
            )
            if enqueue:
                _enqueue(run)
    except IntegrityError:
        raise BillingError(
            "run_exists",
            _("Period %(period)s already has a billing run; resume, cancel or reverse it.")
            % {"period": period.code},
            status=409,
        ) from None
    return run


def _enqueue(run: BillingRun) -> None:
    from billing.tasks import billing_run_task

    transaction.on_commit(lambda: billing_run_task.delay(run.pk))


def billing_run_resume(*, run: BillingRun, enqueue: bool = True) -> BillingRun:
    """Queue a run again from its cursor (after a crash, a failure or a cancellation).
    Raises ``not_resumable`` for finished or reversed runs."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        if run.status in (RunStatus.DONE, RunStatus.REVERSED):
            raise BillingError(
                "not_resumable",
                _("This run is %(status)s; nothing to resume.")
                % {"status": run.get_status_display()},
                status=409,
            )
        run.status = RunStatus.PENDING
        run.cancel_requested = False
        run.error = ""
        run.save(update_fields=["status", "cancel_requested", "error"])
        if enqueue:
            _enqueue(run)
    return run


def billing_run_cancel(*, run: BillingRun) -> BillingRun:
    """Stop a run between chunks (a pending run at once). Its bills stay; reverse the run to
    undo them. Raises ``not_cancellable`` for finished runs."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        if run.status == RunStatus.PENDING:
            run.status = RunStatus.CANCELLED
            run.finished_at = timezone.now()
        elif run.status == RunStatus.RUNNING:
            run.cancel_requested = True
        else:
            raise BillingError(
                "not_cancellable",
                _("This run is %(status)s; it cannot be cancelled.")
                % {"status": run.get_status_display()},
                status=409,
            )
        run.save(update_fields=["status", "finished_at", "cancel_requested"])
    return run


def _run_params(run: BillingRun) -> dict:
    period = run.period
    calendar = BillingCalendar.objects.get(period=period)
    nmax = max(
        [
            run_sql.DEFAULT_ESTIMATED_IN_ROW,
            *HoldPolicy.objects.values_list("estimated_in_row", flat=True),
        ]
    )
    earlier = ReadingPeriod.objects.filter(cycle=period.cycle, starts_on__lt=period.starts_on)
    hist = list(earlier.order_by("-starts_on").values_list("pk", flat=True)[:HISTORY_PERIODS])
    est = [period.pk, *earlier.order_by("-starts_on").values_list("pk", flat=True)[: nmax - 1]]
    return {
        "run": run.pk,
        "set": run.tariff_set_id,
        "period": period.pk,
        "cycle": period.cycle,
        "months": run.cycle.months,
        "billing_date": calendar.billing_date,
        "due_date": calendar.due_date,
        "ref_period": f"{period.starts_on:%y%m}",
        "hist_periods": hist,
        "est_periods": est,
        "nmax": nmax,
        "hf": run_sql.DEFAULT_HISTORY_FACTOR,
        "hm": run_sql.DEFAULT_HISTORY_MIN_M3,
        "hn": run_sql.DEFAULT_ESTIMATED_IN_ROW,
    }


# Bills of billing_in from billing_ln, with holds and payment reference; RETURNING into
# billing_new. The reference: account id (10 digits) + period (YYMM) + ISO 7064 MOD 97-10
# check digits, as banks validate them.
_BILLS_SQL = """
CREATE TEMP TABLE billing_new ON COMMIT DROP AS
WITH tot AS (
    SELECT account_id, sum(amount) AS charges, sum(tax) AS tax
      FROM billing_ln GROUP BY account_id
),
hist AS (
    SELECT c.account_id, avg(c.volume_m3) AS avg_m3
      FROM metering_accountconsumption c
     WHERE c.period_id = ANY(%(hist_periods)s::bigint[]) AND c.method = 'measured'
       AND c.account_id IN (SELECT account_id FROM billing_in WHERE method = 'measured')
     GROUP BY c.account_id
),
est AS (
    SELECT i.account_id,
           coalesce(min(p.k) FILTER (WHERE c.method IS DISTINCT FROM 'estimated'),
                    count(*) + 1) - 1 AS run_len
      FROM billing_in i
      CROSS JOIN unnest(%(est_periods)s::bigint[]) WITH ORDINALITY p(id, k)
      LEFT JOIN metering_accountconsumption c ON c.account_id = i.account_id AND c.period_id = p.id
     WHERE i.method = 'estimated'
     GROUP BY i.account_id
),
b AS (
    SELECT i.*, t.flat_rate, coalesce(tot.charges, 0) AS charges, coalesce(tot.tax, 0) AS tax,
           lpad(i.account_id::text, 10, '0') || %(ref_period)s AS ref,
           CASE
             WHEN i.tariff_id IS NULL OR (i.q IS NULL AND t.flat_rate IS NULL) THEN 'no_tariff'
             WHEN coalesce(tot.charges, 0) + coalesce(tot.tax, 0) < 0 THEN 'negative'
             WHEN hp.amount_cap IS NOT NULL
                  AND coalesce(tot.charges, 0) + coalesce(tot.tax, 0) > hp.amount_cap
                  THEN 'amount_cap'
             WHEN i.method = 'measured' AND hist.avg_m3 IS NOT NULL
                  AND i.q > hist.avg_m3 * coalesce(hp.history_factor, %(hf)s)
                  AND i.q - hist.avg_m3 >= coalesce(hp.history_min_m3, %(hm)s)
                  THEN 'high_consumption'
             WHEN est.run_len >= coalesce(hp.estimated_in_row, %(hn)s) THEN 'estimated_in_row'
             ELSE '' END AS hold
      FROM billing_in i
      LEFT JOIN billing_tariff t ON t.id = i.tariff_id
      LEFT JOIN tot ON tot.account_id = i.account_id
      LEFT JOIN hist ON hist.account_id = i.account_id
      LEFT JOIN est ON est.account_id = i.account_id
      LEFT JOIN billing_holdpolicy hp ON hp.use_type = i.use_type
),
ins AS (
    INSERT INTO billing_bill (run_id, account_id, period_id, tariff_id, use_type, tariff_zone_id,
                              method, consumption_m3, months, previous_balance, charges, tax,
                              total, due_date, payment_reference, status, hold_reason,
                              resolution_note, created_at)
    SELECT %(run)s, b.account_id, %(period)s, b.tariff_id, b.use_type, b.zone_id, b.method, b.q,
           %(months)s, b.prev_balance, b.charges, b.tax, b.charges + b.tax, %(due_date)s,
           b.ref || lpad((98 - ((b.ref || '00')::numeric %% 97))::text, 2, '0'),
           CASE WHEN b.hold = '' THEN 'issued' ELSE 'held' END, b.hold, '', now()
      FROM b
     ORDER BY b.account_id
    ON CONFLICT DO NOTHING
    RETURNING id, account_id, status, total, due_date
)
SELECT * FROM ins
"""

_LINES_FROM_NEW = """
INSERT INTO billing_billline (bill_id, seq, concept, block, quantity, unit_price, amount, tax)
SELECT n.id, l.seq, l.concept, l.block, l.quantity, l.unit_price, l.amount, l.tax
  FROM billing_new n JOIN billing_ln l ON l.account_id = n.account_id
 ORDER BY n.id, l.seq
"""


def _run_chunk(cursor, params: dict, cursor_id: int, chunk_size: int) -> tuple[int, int]:
    """Bill the next chunk after ``cursor_id``; returns (accounts in the chunk, last id)."""
    cursor.execute("DROP TABLE IF EXISTS billing_chunk")
    cursor.execute(
        """CREATE TEMP TABLE billing_chunk ON COMMIT DROP AS
           SELECT id FROM cadastre_serviceaccount
            WHERE billing_cycle = %(cycle)s AND status <> 'inactive' AND id > %(after)s
            ORDER BY id LIMIT %(limit)s""",
        {**params, "after": cursor_id, "limit": chunk_size},
    )
    cursor.execute("SELECT count(*), max(id) FROM billing_chunk")
    count, last = cursor.fetchone()
    if not count:
        return 0, cursor_id
    # Accounts with a live bill of the period are skipped (a re-run, a resumed chunk);
    # the unique constraint would refuse them anyway (ON CONFLICT DO NOTHING).
    run_sql.compute(
        cursor,
        params,
        "billing_chunk",
        where="""WHERE NOT EXISTS (SELECT 1 FROM billing_bill x WHERE x.account_id = a.id
                   AND x.period_id = %(period)s AND x.status IN ('issued', 'held'))""",
    )
    cursor.execute(_BILLS_SQL, params)
    cursor.execute(_LINES_FROM_NEW)
    cursor.execute(_LEDGER_FROM_NEW)
    cursor.execute(
        """UPDATE billing_billingrun r SET
             cursor = %(last)s,
             done_accounts = r.done_accounts + %(count)s,
             total_accounts = greatest(r.total_accounts, r.done_accounts + %(count)s),
             bills_issued = r.bills_issued + n.issued,
             bills_held = r.bills_held + n.held,
             amount_issued = r.amount_issued + n.amount
           FROM (SELECT count(*) FILTER (WHERE status = 'issued') AS issued,
                        count(*) FILTER (WHERE status = 'held') AS held,
                        coalesce(sum(total) FILTER (WHERE status = 'issued'), 0) AS amount
                   FROM billing_new) n
          WHERE r.id = %(run)s""",
        {**params, "last": last, "count": count},
    )
    return count, last


def billing_run_execute(*, run_id: int, max_chunks: int | None = None) -> BillingRun:
    """Bill the run's accounts chunk by chunk from its cursor (what the Celery task calls).

    Returns when the run is done, cancelled, not runnable, or after ``max_chunks`` chunks
    (tests use it to stop a run between chunks, as a crash would). A database error rolls the
    chunk back whole, marks the run ``failed`` with a message saying where it stopped (resume
    it) and is raised again."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status not in (RunStatus.PENDING, RunStatus.RUNNING):
            return run
        run.status = RunStatus.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["status", "started_at"])
    params = _run_params(run)
    chunks = 0
    try:
        while max_chunks is None or chunks < max_chunks:
            with transaction.atomic(), connection.cursor() as cursor:
                _lock_cycle(params["cycle"])
                run = BillingRun.objects.select_for_update().get(pk=run_id)
                if run.status != RunStatus.RUNNING:
                    break
                if run.cancel_requested:
                    run.status = RunStatus.CANCELLED
                    run.finished_at = timezone.now()
                    run.save(update_fields=["status", "finished_at"])
                    break
                cursor.execute("SET LOCAL jit = off")
                count, _last = _run_chunk(cursor, params, run.cursor, run.chunk_size)
                if count == 0:
                    run.refresh_from_db()
                    run.status = RunStatus.DONE
                    run.finished_at = timezone.now()
                    run.save(update_fields=["status", "finished_at"])
                    break
            chunks += 1
    except DatabaseError as exc:
        # The chunk's transaction rolled back whole: the run row still says where it stands.
        done, total = BillingRun.objects.values_list("done_accounts", "total_accounts").get(
            pk=run_id
        )
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        BillingRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED,
            error=_(
                "Billing stopped after %(done)s of %(total)s accounts; nothing of the failed "
                "chunk was written. Resume the run once the cause is fixed (database: %(detail)s)."
            )
            % {"done": done, "total": total, "detail": detail[:500]},
        )
        raise
    run.refresh_from_db()
    return run


def billing_run_reverse(*, run: BillingRun, user=None, reason: str) -> BillingRun:
    """Reverse a whole run: a reversal entry for every ledger entry of its bills, its bills
    marked reversed, the run too (its period may be billed again). Raises ``reason_required``,
    ``run_in_progress`` (cancel it first) and ``already_reversed``."""
    if not reason.strip():
        raise BillingError("reason_required", _("Say why the run is reversed."), field="reason")
    with transaction.atomic():
        _lock_cycle(run.period.cycle)
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        if run.status == RunStatus.REVERSED:
            raise BillingError("already_reversed", _("This run was already reversed."), status=409)
        if run.status in (RunStatus.PENDING, RunStatus.RUNNING):
            raise BillingError(
                "run_in_progress",
                _("The run is still in progress; cancel it and wait for it to stop."),
                status=409,
            )
        execute(
            """INSERT INTO billing_ledgerentry (account_id, document_type, document_id,
                                                concept, amount, posted_at, reversal_of_id,
                                                note)
               SELECT l.account_id, l.document_type, l.document_id, l.concept, -l.amount,
                      now(), l.id, %(note)s
                 FROM billing_bill b
                 JOIN billing_ledgerentry l
                   ON l.document_type = 'bill' AND l.document_id = b.id
                WHERE b.run_id = %(run)s AND l.reversal_of_id IS NULL
                  AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r
                                   WHERE r.reversal_of_id = l.id)
                ORDER BY l.id""",
            {"run": run.pk, "note": reason[:200]},
        )
        now = timezone.now()
        Bill.objects.filter(run=run, status__in=[BillStatus.ISSUED, BillStatus.HELD]).update(
            status=BillStatus.REVERSED,
            resolved_by=user,
            resolved_at=now,
            resolution_note=reason[:200],
        )
        run.status = RunStatus.REVERSED
        run.reversed_at = now
        run.reversed_by = user
        run.reverse_reason = reason[:200]
        run.save(update_fields=["status", "reversed_at", "reversed_by", "reverse_reason"])
    return run


# --- held bills ---------------------------------------------------------------------------------


def _held_bill_locked(bill: Bill, reason: str) -> Bill:
    if not reason.strip():
        raise BillingError(
            "reason_required",
            _("Say why bill %(reference)s is released or corrected.")
            % {"reference": bill.payment_reference},
            field="reason",
        )
    # The cycle's lock first, as runs and reversals take it: a reversal of the run never misses
    # the entries of a bill released meanwhile.
    _lock_cycle(ReadingPeriod.objects.values_list("cycle", flat=True).get(pk=bill.period_id))
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    if bill.status != BillStatus.HELD:
        raise BillingError(
            "not_held", _("This bill is not held; it cannot be released or corrected."), status=409
        )
    return bill


def bill_release(*, bill: Bill, user, reason: str) -> Bill:
    """Issue a held bill as computed: post it to the ledger. Raises ``not_held``,
    ``reason_required`` and ``no_tariff`` (a bill without a tariff must be corrected)."""
    with transaction.atomic():
        bill = _held_bill_locked(bill, reason)
        if bill.tariff_id is None or not bill.lines.exists():
            raise BillingError(
                "no_tariff", _("This bill has no lines; correct it instead."), status=409
            )
        bill.status = BillStatus.ISSUED
        bill.resolved_by = user
        bill.resolved_at = timezone.now()
        bill.resolution_note = reason[:200]
        bill.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
        _post_bill(bill)
        BillingRun.objects.filter(pk=bill.run_id).update(
            bills_issued=F("bills_issued") + 1,
            bills_held=F("bills_held") - 1,
            amount_issued=F("amount_issued") + bill.total,
        )
    return bill


def tariff_set_spec(tariff_set: TariffSet) -> TariffSetSpec:
    """The pricing spec of a stored set (zones by code)."""
    tariffs = []
    for t in tariff_set.tariffs.select_related("zone").prefetch_related("blocks").order_by("pk"):
        tariffs.append(_tariff_spec(t))
    return TariffSetSpec(
        code=tariff_set.code,
        name=tariff_set.name,
        valid_from=tariff_set.valid_from,
        valid_to=tariff_set.valid_to,
        vat_rate=tariff_set.vat_rate,
        rounding_unit=tariff_set.rounding_unit,
        late_fee_pct=tariff_set.late_fee_pct,
        tariffs=tuple(tariffs),
        discounts=tuple(
            pricing.DiscountSpec(code=d.code, name=d.name, pct=d.pct, cap_m3=d.cap_m3)
            for d in tariff_set.discounts.order_by("code")
        ),
    )


def _tariff_spec(t: Tariff) -> pricing.TariffSpec:
    return pricing.TariffSpec(
        use_type=t.use_type,
        zone=t.zone.code if t.zone_id else None,
        fixed_charge=t.fixed_charge,
        block_method=t.block_method,
        blocks=tuple(
            pricing.Block(from_m3=b.from_m3, to_m3=b.to_m3, price=b.price)
            for b in sorted(t.blocks.all(), key=lambda b: b.number)
        ),
        minimum_m3=t.minimum_m3,
        sewer_pct=t.sewer_pct,
        sanitation_pct=t.sanitation_pct,
        vat=t.vat,
        flat_rate=t.flat_rate,
    )


def _account_discount(account_id: int, tariff_set: TariffSet, day: dt.date):
    codes = (
        AccountDiscount.objects.filter(account_id=account_id, valid_from__lte=day)
        .exclude(valid_to__lt=day)
        .values_list("code", flat=True)
    )
    best = tariff_set.discounts.filter(code__in=list(codes)).order_by("-pct", "code").first()
    if best is None:
        return None
    return pricing.DiscountSpec(code=best.code, name=best.name, pct=best.pct, cap_m3=best.cap_m3)


def bill_correct(*, bill: Bill, user, reason: str, consumption_m3: Decimal | None) -> Bill:
    """Replace a held bill by an issued one priced with ``consumption_m3`` (None: flat rate)
    under the run's tariff set; the held bill is kept, marked ``corrected``. Raises
    ``not_held``, ``reason_required``, ``no_tariff`` and ``negative_consumption``."""
    if consumption_m3 is not None and consumption_m3 < 0:
        raise BillingError(
            "negative_consumption", _("Consumption cannot be negative."), field="consumption_m3"
        )
    with transaction.atomic():
        bill = _held_bill_locked(bill, reason)
        run = bill.run
        account = ServiceAccount.objects.get(pk=bill.account_id)
        # The use type's tariff of the bill's zone, else its tariff for every zone (as the run).
        tariff = (
            Tariff.objects.filter(tariff_set=run.tariff_set, use_type=account.use_type)
            .filter(Q(zone_id=bill.tariff_zone_id) | Q(zone__isnull=True))
            .order_by(F("zone_id").asc(nulls_last=True))
            .first()
        )
        spec = _tariff_spec(tariff) if tariff else None
        if spec is None or (consumption_m3 is None and spec.flat_rate is None):
            raise BillingError(
                "no_tariff",
                _("No tariff of set %(set)s applies to this account; add one, then correct.")
                % {"set": run.tariff_set.code},
                status=409,
            )
        calendar = BillingCalendar.objects.get(period_id=bill.period_id)
        quote = pricing.bill_price(
            tariff=spec,
            m3=consumption_m3,
            months=bill.months,
            vat_rate=run.tariff_set.vat_rate,
            rounding_unit=run.tariff_set.rounding_unit,
            water=account.water,
            sewer=account.sewer,
            sanitation=account.sanitation,
            discount=_account_discount(account.pk, run.tariff_set, calendar.billing_date),
            overdue=max(bill.previous_balance, Decimal(0)),
            late_fee_pct=run.tariff_set.late_fee_pct,
        )
        now = timezone.now()
        bill.status = BillStatus.CORRECTED
        bill.resolved_by = user
        bill.resolved_at = now
        bill.resolution_note = reason[:200]
        bill.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
        new = Bill.objects.create(
            run=run,
            account_id=bill.account_id,
            period_id=bill.period_id,
            tariff=tariff,
            use_type=bill.use_type,
            tariff_zone_id=bill.tariff_zone_id,
            method=BillMethod.FLAT if consumption_m3 is None else bill.method,
            consumption_m3=consumption_m3,
            months=bill.months,
            previous_balance=bill.previous_balance,
            charges=quote.charges,
            tax=quote.tax,
            total=quote.total,
            due_date=bill.due_date,
            payment_reference=bill.payment_reference,
            status=BillStatus.ISSUED,
            corrects=bill,
            resolved_by=user,
            resolved_at=now,
            resolution_note=reason[:200],
        )
        BillLine.objects.bulk_create(
            BillLine(
                bill=new,
                seq=line.seq,
                concept=line.concept,
                block=line.block,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                tax=line.tax,
            )
            for line in quote.lines
        )
        _post_bill(new)
        BillingRun.objects.filter(pk=run.pk).update(
            bills_issued=F("bills_issued") + 1,
            bills_held=F("bills_held") - 1,
            amount_issued=F("amount_issued") + new.total,
        )
    return new
