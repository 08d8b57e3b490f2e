"""Writes of collections: the nightly evaluation, reconnection after payment, the
self-reconnection check, large consumers and collectors.

The evaluation is set-based: the aging of every account (:mod:`billing.collection.aging`)
lands in a temporary table and episodes and actions are written by ``INSERT … SELECT`` /
``UPDATE … FROM``. Python loops only over the work orders to create (through
:func:`orders.services.work_order_create`, one per suspension that night), never over
accounts.

Work orders are created by the system user :data:`SYSTEM_USERNAME` (inactive, no password)
when no user is given: the orders service records who created each order, and nightly work
has no person behind it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

import pghistory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.collection.aging import account_aging, aging_sql
from billing.collection.errors import CollectionError
from billing.collection.models import (
    CUT_KINDS,
    OPEN_ACTION_STATUSES,
    AccountCollectionType,
    ActionKind,
    ActionStatus,
    CollectionAction,
    CollectionEpisode,
    CollectionType,
    CollectionTypeChange,
    CollectorAssignment,
    LargeConsumer,
    LargeConsumerBasis,
)
from cadastre.models import AccountStatus, ServiceAccount
from gis_core.sql import execute, fetchall

logger = logging.getLogger(__name__)

SYSTEM_USERNAME = "caudal-system"
ORDER_SOURCE = "collection"
# pg_advisory_xact_lock(class, 0): one evaluation at a time (billing.settlement uses class 9).
LOCK_CLASS = 10
ZERO = Decimal("0.00")


def system_user():
    """The user nightly work acts as (created on first use, inactive, no usable password)."""
    user, _created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "password": make_password(None)},
    )
    return user


# --- agreements ---------------------------------------------------------------------------------


def _agreement_query():
    """The lazy queryset of account ids with an agreement in force, or None while
    ``billing.agreements`` offers no such selector."""
    try:
        from billing.agreements.selectors import accounts_with_current_agreement
    except ImportError:
        return None
    return accounts_with_current_agreement()


def paused_account_ids(account_ids=None) -> set[int]:
    """Accounts whose collection is paused: a payment agreement is in force."""
    qs = _agreement_query()
    if qs is None:
        return set()
    if account_ids is not None:
        qs = qs.filter(account_id__in=list(account_ids))
    return set(qs)


def _paused_table() -> None:
    """``col_paused(account_id)``: the accounts with an agreement in force, as a temporary
    table so the evaluation's statements can anti-join it."""
    execute("DROP TABLE IF EXISTS col_paused")
    qs = _agreement_query()
    if qs is None:
        execute("CREATE TEMP TABLE col_paused (account_id bigint PRIMARY KEY) ON COMMIT DROP")
        return
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE col_paused ON COMMIT DROP AS SELECT DISTINCT x.account_id "  # noqa: S608
            f"FROM ({sql}) x(account_id)",
            params,
        )


# --- evaluation ---------------------------------------------------------------------------------


@dataclass
class Evaluation:
    day: dt.date
    overdue_accounts: int = 0
    paused: int = 0
    episodes_opened: int = 0
    episodes_closed: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    order_errors: int = 0
    reconnections: int = 0


# Open episodes of accounts no longer overdue (and not paused by an agreement) close: the
# spell ended because the account paid up.
CLOSE_EPISODES_SQL = """
UPDATE collection_collectionepisode ep
   SET closed_on = greatest(%(day)s::date, ep.opened_on)
 WHERE ep.closed_on IS NULL {scope}
   AND NOT EXISTS (SELECT 1 FROM col_aging g WHERE g.account_id = ep.account_id)
   AND NOT EXISTS (SELECT 1 FROM col_paused p WHERE p.account_id = ep.account_id)
RETURNING ep.id
"""

# What a paid-up spell leaves: notices and reminders did their job (done); cut actions that
# never got an order are cancelled. Cut actions with an order are settled by
# collection_on_payment (cancel the order, or reconnect).
CLOSE_ACTIONS_SQL = """
UPDATE collection_collectionaction a
   SET status = CASE WHEN a.kind IN ('suspension', 'limitation') THEN 'cancelled' ELSE 'done' END,
       closed_at = %(now)s
 WHERE a.episode_id = ANY(%(episodes)s::bigint[])
   AND a.status IN ('planned', 'issued')
   AND (a.work_order_id IS NULL OR a.kind NOT IN ('suspension', 'limitation'))
"""

OPEN_EPISODES_SQL = """
INSERT INTO collection_collectionepisode (account_id, opened_on)
SELECT g.account_id, %(day)s::date
  FROM col_aging g
 WHERE NOT EXISTS (SELECT 1 FROM col_paused p WHERE p.account_id = g.account_id)
ON CONFLICT (account_id) WHERE closed_on IS NULL DO NOTHING
"""

# The next step of each overdue account's ladder: the lowest step above the highest taken in
# its open episode, if the account meets it. The ladder is the account's segment (large
# consumer or not) and collection type, of its use type if that has one, else the generic one.
# A notice whose deadline has not passed holds every later step. The unique (episode, step)
# makes a second run of the same night insert nothing.
NEXT_STEP_SQL = """
INSERT INTO collection_collectionaction
       (account_id, episode_id, kind, step, rule_id, status, day, deadline, amount_owed,
        periods_overdue, days_overdue, assigned_to_id, ref, note, created_at, issued_at)
SELECT g.account_id, ep.id, p.action, p.step, p.id,
       CASE WHEN p.action IN ('suspension', 'limitation') THEN 'planned' ELSE 'issued' END,
       %(day)s::date,
       %(day)s::date + p.deadline_days,
       g.overdue, least(g.periods, 32767), g.days_overdue,
       CASE WHEN p.to_executive THEN lc.executive_id
            ELSE coalesce(ca.collector_id, cs.collector_id) END,
       '', '', %(now)s,
       CASE WHEN p.action IN ('suspension', 'limitation') THEN NULL ELSE %(now)s::timestamptz END
  FROM col_aging g
  JOIN cadastre_serviceaccount a ON a.id = g.account_id
  JOIN collection_collectionepisode ep ON ep.account_id = g.account_id AND ep.closed_on IS NULL
  LEFT JOIN collection_largeconsumer lc ON lc.account_id = g.account_id
  LEFT JOIN collection_accountcollectiontype ct ON ct.account_id = g.account_id
  LEFT JOIN collection_collectorassignment ca ON ca.account_id = g.account_id
  LEFT JOIN sectors_accountsectors s ON s.account_id = g.account_id
  LEFT JOIN collection_collectorassignment cs ON cs.sector_id = s.sector_id
  CROSS JOIN LATERAL (
      SELECT q.* FROM col_ladder q
       WHERE q.segment = CASE WHEN lc.account_id IS NULL THEN 'normal' ELSE 'large' END
         AND q.collection_type = coalesce(ct.collection_type, 'normal')
         AND q.use_type = CASE WHEN EXISTS (
                 SELECT 1 FROM col_ladder u
                  WHERE u.segment = q.segment AND u.collection_type = q.collection_type
                    AND u.use_type = a.use_type) THEN a.use_type ELSE '' END
         AND q.step > coalesce((SELECT max(x.step) FROM collection_collectionaction x
                                 WHERE x.episode_id = ep.id), 0)
       ORDER BY q.step
       LIMIT 1
  ) p
 WHERE NOT EXISTS (SELECT 1 FROM col_paused z WHERE z.account_id = g.account_id)
   AND g.periods >= p.min_periods AND g.days_overdue >= p.min_days AND g.overdue >= p.min_debt
   AND NOT EXISTS (SELECT 1 FROM collection_collectionaction h
                    WHERE h.episode_id = ep.id AND h.deadline >= %(day)s::date
                      AND h.status IN ('planned', 'issued'))
ON CONFLICT (episode_id, step) WHERE step IS NOT NULL DO NOTHING
RETURNING id, episode_id, kind
"""

# A later step supersedes the reminders and notices still standing in its episode.
SUPERSEDE_SQL = """
UPDATE collection_collectionaction a
   SET status = 'superseded', closed_at = %(now)s
 WHERE a.episode_id = ANY(%(episodes)s::bigint[])
   AND NOT (a.id = ANY(%(new)s::bigint[]))
   AND a.status = 'issued' AND a.kind IN ('reminder', 'formal_notice')
"""


def _scope(column: str, account_ids) -> str:
    return f"AND {column} = ANY(%(ids)s::bigint[])" if account_ids is not None else ""


@transaction.atomic
def collection_evaluate(*, day: dt.date, account_ids=None, user=None) -> Evaluation:
    """Apply the collection policy as of ``day`` (a date in the utility's zone) to every
    account (or ``account_ids``): close the episodes of accounts paid up, open one for each
    account newly overdue, create the next due step of each ladder, create the work orders of
    cut steps, and reconnect paid-up suspended accounts (a safety net for
    :func:`collection_on_payment`). Accounts with a payment agreement in force are skipped
    and their episode kept open, so a breach resumes where the ladder was.

    Idempotent: evaluating the same day twice creates nothing new. One evaluation runs at a
    time (a transaction-scoped advisory lock). Raises nothing for a single account's order
    refused by orders (it stays planned, logged, retried next night)."""
    now = timezone.now()
    result = Evaluation(day=day)
    execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_CLASS])
    ids = list(account_ids) if account_ids is not None else None
    sql, params = aging_sql(day=day, account_ids=ids)
    execute("DROP TABLE IF EXISTS col_aging")
    with connection.cursor() as cursor:
        # Sorts and hashes of a million accounts want more than the default work_mem.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        # JIT compiles the aging statement's many expressions for about a second, more than
        # it saves even at a million accounts.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            f"CREATE TEMP TABLE col_aging ON COMMIT DROP AS "  # noqa: S608
            f"SELECT * FROM ({sql}) x WHERE x.overdue > 0",
            params,
        )
        cursor.execute("ALTER TABLE col_aging ADD PRIMARY KEY (account_id)")
        cursor.execute("SELECT count(*) FROM col_aging")
        result.overdue_accounts = cursor.fetchone()[0]
        cursor.execute("DROP TABLE IF EXISTS col_ladder")
        cursor.execute(
            "CREATE TEMP TABLE col_ladder ON COMMIT DROP AS "
            "SELECT * FROM collection_collectionpolicy WHERE active"
        )
    _paused_table()
    result.paused = fetchall("SELECT count(*) FROM col_paused", [])[0][0]
    sp = {"day": day, "now": now, "ids": ids}

    closed = [
        row[0]
        for row in fetchall(CLOSE_EPISODES_SQL.format(scope=_scope("ep.account_id", ids)), sp)
    ]
    result.episodes_closed = len(closed)
    if closed:
        execute(CLOSE_ACTIONS_SQL, {"episodes": closed, "now": now})
    result.episodes_opened = execute(OPEN_EPISODES_SQL, sp)

    made = fetchall(NEXT_STEP_SQL, sp)
    for _id, _episode, kind in made:
        result.actions[kind] = result.actions.get(kind, 0) + 1
    if made:
        execute(
            SUPERSEDE_SQL,
            {
                "episodes": sorted({row[1] for row in made}),
                "new": [row[0] for row in made],
                "now": now,
            },
        )

    result.orders, result.order_errors = _cut_orders_create(user=user, account_ids=ids)
    # Safety net: suspended accounts that paid (or signed an agreement) but whose payment
    # event never reached collection_on_payment.
    for (account_id,) in fetchall(
        f"""SELECT DISTINCT a.account_id FROM collection_collectionaction a
             WHERE a.kind IN ('suspension', 'limitation') AND a.status IN ('planned', 'issued')
               AND (NOT EXISTS (SELECT 1 FROM col_aging g WHERE g.account_id = a.account_id)
                    OR EXISTS (SELECT 1 FROM col_paused p WHERE p.account_id = a.account_id))
               {_scope("a.account_id", ids)}
             ORDER BY 1""",  # noqa: S608
        sp,
    ):
        result.reconnections += len(
            collection_on_payment(account=account_id, day=day, user=user, evaluated=True)
        )
    return result


def _cut_orders_create(*, user, account_ids=None) -> tuple[int, int]:
    """The work orders of planned cut actions (also the ones refused on earlier nights)."""
    from orders.services import WorkOrderError, work_order_create

    pending = CollectionAction.objects.filter(
        kind__in=CUT_KINDS, status=ActionStatus.PLANNED, work_order__isnull=True
    ).select_related("account", "account__parcel")
    if account_ids is not None:
        pending = pending.filter(account_id__in=account_ids)
    made = errors = 0
    actor = user or system_user()
    for action in pending.order_by("pk"):
        account = action.account
        reason = _(
            "%(kind)s of account %(account)s: %(periods)s periods overdue, %(amount)s owed."
        ) % {
            "kind": ActionKind(action.kind).label,
            "account": account.number,
            "periods": action.periods_overdue,
            "amount": action.amount_owed,
        }
        try:
            order = work_order_create(
                # No "limitation" order type in the catalogue: a limitation is a suspension
                # order (the crew fits the limiting plug, TAP-13) whose reason says so.
                kind="suspension",
                reason=reason,
                location=account.service_point,
                account=account,
                source=ORDER_SOURCE,
                source_ref=f"action:{action.pk}",
                user=actor,
            )
        except WorkOrderError as exc:
            logger.warning("collection action %s: order refused: %s", action.pk, exc.message)
            # Shown with the action: why it is still planned without an order.
            action.note = (
                _("No work order yet, tried again each night: %(reason)s") % {"reason": exc.message}
            )[:200]
            action.save(update_fields=["note"])
            errors += 1
            continue
        action.work_order = order
        action.status = ActionStatus.ISSUED
        action.issued_at = timezone.now()
        action.note = ""
        action.save(update_fields=["work_order", "status", "issued_at", "note"])
        made += 1
    return made, errors


# --- reconnection -------------------------------------------------------------------------------


def _service_was_cut(action: CollectionAction) -> bool:
    from orders.models import WorkOrderStatus

    order = action.work_order
    return (order is not None and order.status == WorkOrderStatus.DONE) or (
        action.account.status in ("suspended", "cut")
    )


def _follow_up_issue(
    *, cut, kind, ref, day, now, actor, reason, order_ref=None, action_fields=None
) -> CollectionAction | None:
    """A follow-up of the cut action ``cut`` (a reconnection, an inspection) and its work
    order, issued, in one savepoint. None when that follow-up exists already (its unique
    ``ref`` / parent and kind) or orders refused the order: that is logged and nothing is kept,
    so the next night tries again."""
    from orders.services import WorkOrderError, work_order_create

    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    action = CollectionAction.objects.create(
                        account_id=cut.account_id,
                        episode_id=cut.episode_id,
                        kind=kind,
                        parent=cut,
                        status=ActionStatus.PLANNED,
                        day=day,
                        ref=ref,
                        created_at=now,
                        **(action_fields or {}),
                    )
            except IntegrityError:
                return None
            order = work_order_create(
                kind=kind,
                reason=reason,
                location=cut.account.service_point,
                account=cut.account,
                source=ORDER_SOURCE,
                source_ref=order_ref or ref,
                user=actor,
            )
    except WorkOrderError as exc:
        logger.warning(
            "collection action %s (account %s): %s order refused: %s",
            cut.pk,
            cut.account.number,
            kind,
            exc.message,
        )
        return None
    action.work_order = order
    action.status = ActionStatus.ISSUED
    action.issued_at = now
    action.save(update_fields=["work_order", "status", "issued_at"])
    return action


@transaction.atomic
def collection_on_payment(
    *, account, day: dt.date | None = None, user=None, evaluated: bool = False
) -> list[CollectionAction]:
    """After a payment (or an agreement) on ``account``: if it owes nothing overdue any more,
    or has an agreement in force, settle its standing cut actions — an order not yet carried
    out is cancelled; a service already cut gets one reconnection order
    (``source_ref="reconnect:<account>:<suspension action>"``) and the suspension action is
    done. Returns the reconnection actions created (none when the account still owes). A
    reconnection order refused by orders is logged and its cut left open: the nightly
    evaluation's safety net tries again.

    Safe to call twice or concurrently for the same payment: the account's cut actions are
    locked (by primary key) and re-read, so the second call finds them closed; a unique
    constraint (one reconnection per suspension) and the orders service's one-open-order per
    source reference back it up."""
    from orders.models import OPEN_STATUSES
    from orders.services import work_order_cancel

    account_id = getattr(account, "pk", account)
    day = day or timezone.localdate()
    cuts = list(
        CollectionAction.objects.select_for_update(of=("self",))
        .filter(account_id=account_id, kind__in=CUT_KINDS, status__in=OPEN_ACTION_STATUSES)
        .select_related("account", "work_order")
        .order_by("pk")
    )
    if not cuts:
        return []
    aging = account_aging(account=account_id, day=day)
    overdue = aging.overdue if aging else ZERO
    if overdue > 0 and not paused_account_ids([account_id]):
        return []
    actor = user or system_user()
    now = timezone.now()
    made = []
    for cut in cuts:
        order = cut.work_order
        if order is None or order.status in OPEN_STATUSES or not _service_was_cut(cut):
            # Paid before the crew went (or the order failed): the cut is no longer wanted.
            if order is not None and order.status in OPEN_STATUSES:
                work_order_cancel(
                    order=order, user=actor, reason=_("The account paid its overdue debt.")
                )
            cut.status = ActionStatus.CANCELLED
            cut.closed_at = now
            cut.save(update_fields=["status", "closed_at"])
            continue
        # An order refused leaves neither action nor order, and the cut open for the next
        # night's safety net, instead of failing the whole run.
        reconnection = _follow_up_issue(
            cut=cut,
            kind=ActionKind.RECONNECTION,
            ref=f"reconnect:{account_id}:{cut.pk}",
            day=day,
            now=now,
            actor=actor,
            action_fields={
                "amount_owed": overdue,
                "note": _("Created by the nightly evaluation.") if evaluated else "",
            },
            reason=_("Reconnect account %(account)s: its overdue debt is settled.")
            % {"account": cut.account.number},
        )
        if reconnection is None:
            continue
        cut.status = ActionStatus.DONE
        cut.closed_at = now
        cut.save(update_fields=["status", "closed_at"])
        made.append(reconnection)
    return made


def collection_on_payment_later(*, account) -> bool:
    """Run :func:`collection_on_payment` in a worker once the caller's transaction commits
    (for the payment and agreement services: the payment must be visible first), when the
    account has a standing cut — a suspension order not yet carried out (paid before the crew
    goes: cancel it today, not at night) or a service cut. Costs one index probe; an account
    with no cut queues nothing. Returns whether it queued."""
    from billing.collection.tasks import collection_on_payment_task

    account_id = getattr(account, "pk", account)
    standing = CollectionAction.objects.filter(
        account_id=account_id, kind__in=CUT_KINDS, status__in=OPEN_ACTION_STATUSES
    ).exists()
    if standing:
        transaction.on_commit(lambda: collection_on_payment_task.delay(account_id))
    return standing


# --- the field work done ------------------------------------------------------------------------

# What a carried-out cut does to the account. The catalogue has no "cut" or "limitation" order
# type: a limitation is a suspension order whose crew fits a limiting plug, so the service is
# restricted, not cut off at the main — both leave the account suspended. ``cut`` stays for
# a disconnection at the main, which collections does not order.
CUT_ACCOUNT_STATUS = {
    ActionKind.SUSPENSION: AccountStatus.SUSPENDED,
    ActionKind.LIMITATION: AccountStatus.SUSPENDED,
}


def _account_status_set(*, account_id: int, to: str, from_: tuple[str, ...], order) -> bool:
    """Move the account to ``to`` only from ``from_`` (so a second report changes nothing and
    an inactive account stays inactive); the history trigger records the change, with the
    order that caused it in its context. Returns whether it changed."""
    with pghistory.context(work_order=order.number, source_ref=order.source_ref):
        return bool(
            ServiceAccount.objects.filter(pk=account_id, status__in=from_).update(status=to)
        )


def collection_order_done(*, order, user=None) -> str | None:
    """The crew carried out a collections order (called by the orders service when the order
    is finished as done, in its transaction): a suspension (``source_ref="action:<id>"``)
    leaves the account suspended; a reconnection (``"reconnect:<account>:<suspension>"``)
    makes it active again and its reconnection action done. Inspections and unknown references
    change nothing. Idempotent: an account already in the new status is left alone. Returns
    the account's new status, or None when nothing changed. Raises nothing."""
    kind, _sep, rest = (order.source_ref or "").partition(":")
    if kind == "action":
        # Read, not locked: collection_on_payment locks cut actions before the order, this runs
        # with the order locked; the conditional account update below makes it safe anyway.
        action = (
            CollectionAction.objects.filter(
                pk=int(rest) if rest.isdigit() else 0, work_order_id=order.pk
            )
            .filter(kind__in=CUT_KINDS, status=ActionStatus.ISSUED)
            .first()
        )
        if action is None:
            return None
        to = CUT_ACCOUNT_STATUS[action.kind]
        # A cut carried out: the action stays issued until the account pays and is
        # reconnected (collection_on_payment closes it then).
        changed = _account_status_set(
            account_id=action.account_id, to=to, from_=(AccountStatus.ACTIVE,), order=order
        )
        return to if changed else None
    if kind == "reconnect":
        action = CollectionAction.objects.filter(
            work_order_id=order.pk, kind=ActionKind.RECONNECTION, ref=order.source_ref
        ).first()
        if action is None:
            return None
        CollectionAction.objects.filter(pk=action.pk, status__in=OPEN_ACTION_STATUSES).update(
            status=ActionStatus.DONE, closed_at=timezone.now()
        )
        changed = _account_status_set(
            account_id=action.account_id,
            to=AccountStatus.ACTIVE,
            from_=(AccountStatus.SUSPENDED, AccountStatus.CUT),
            order=order,
        )
        return AccountStatus.ACTIVE if changed else None
    return None


# --- self-reconnection --------------------------------------------------------------------------

# Standing suspensions whose order was carried out, and the first reading after it with
# consumption: water is flowing where it was cut. One inspection per suspension.
SELF_RECONNECTION_SQL = """
SELECT DISTINCT ON (c.id) c.id, r.id, r.consumption, r.captured_at
  FROM collection_collectionaction c
  JOIN orders_workorder o ON o.id = c.work_order_id AND o.status = 'done'
  JOIN metering_reading r ON r.account_id = c.account_id
                         AND r.captured_at > o.finished_at AND r.captured_at < %(until)s
                         AND r.consumption > 0
                         AND r.status IN ('valid', 'flagged', 'accepted')
 WHERE c.kind IN ('suspension', 'limitation') AND c.status = 'issued'
   AND NOT EXISTS (SELECT 1 FROM collection_collectionaction i
                    WHERE i.parent_id = c.id AND i.kind = 'inspection')
 ORDER BY c.id, r.captured_at, r.id
"""


@transaction.atomic
def collection_self_reconnection_check(*, day: dt.date, user=None) -> list[CollectionAction]:
    """Open an inspection for every suspended account (its suspension order carried out)
    whose later reading, up to the end of ``day``, shows consumption: one per suspension,
    ``source_ref="selfreconnect:<reading>"``. Returns the inspection actions created. An
    order refused by orders is logged and left for the next night."""

    until = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    found = fetchall(SELF_RECONNECTION_SQL, {"until": until})
    if not found:
        return []
    actor = user or system_user()
    cuts = {
        a.pk: a
        for a in CollectionAction.objects.filter(pk__in=[row[0] for row in found]).select_related(
            "account"
        )
    }
    made = []
    now = timezone.now()
    for cut_id, reading_id, consumption, captured_at in found:
        cut = cuts[cut_id]
        # An order refused leaves neither (the next night finds the reading again) and the
        # other inspections stand.
        inspection = _follow_up_issue(
            cut=cut,
            kind=ActionKind.INSPECTION,
            ref=f"reading:{reading_id}",
            order_ref=f"selfreconnect:{reading_id}",
            day=day,
            now=now,
            actor=actor,
            reason=_(
                "Suspended account %(account)s shows %(m3)s m³ consumed on %(date)s: "
                "check for a self-reconnection."
            )
            % {
                "account": cut.account.number,
                "m3": consumption,
                "date": timezone.localtime(captured_at).date().isoformat(),
            },
        )
        if inspection is None:
            continue
        made.append(inspection)
    return made


# --- actions by hand ----------------------------------------------------------------------------


@transaction.atomic
def collection_action_cancel(*, action: CollectionAction, user, reason: str) -> CollectionAction:
    """Cancel a planned or issued action (and its open work order). Raises
    ``reason_required`` and ``not_open`` (409)."""
    from orders.models import OPEN_STATUSES
    from orders.services import work_order_cancel

    if not (reason or "").strip():
        raise CollectionError(
            "reason_required", _("Say why the action is cancelled."), field="reason"
        )
    locked = (
        CollectionAction.objects.select_for_update(of=("self",))
        .select_related("work_order")
        .get(pk=action.pk)
    )
    if locked.status not in OPEN_ACTION_STATUSES:
        raise CollectionError(
            "not_open",
            _("This action is no longer open (%(status)s); reload it.")
            % {"status": locked.get_status_display()},
            status=409,
        )
    if locked.work_order is not None and locked.work_order.status in OPEN_STATUSES:
        work_order_cancel(order=locked.work_order, user=user, reason=reason)
    locked.status = ActionStatus.CANCELLED
    locked.closed_at = timezone.now()
    locked.note = reason.strip()[:200]
    locked.save(update_fields=["status", "closed_at", "note"])
    return locked


# --- judicial and special collection -----------------------------------------------------------


def _cuts_withdraw(*, account_id: int, user, note: str) -> int:
    """Cancel the account's standing cut actions whose order was not carried out (and those
    orders): judicial and special collection suspend nobody automatically. A cut already
    carried out stays (the reconnection follows payment). Returns how many were cancelled."""
    from orders.models import OPEN_STATUSES, WorkOrderStatus
    from orders.services import work_order_cancel

    cancelled = 0
    now = timezone.now()
    for cut in (
        CollectionAction.objects.select_for_update(of=("self",))
        .filter(account_id=account_id, kind__in=CUT_KINDS, status__in=OPEN_ACTION_STATUSES)
        .select_related("work_order")
        .order_by("pk")
    ):
        order = cut.work_order
        if order is not None and order.status == WorkOrderStatus.DONE:
            continue
        if order is not None and order.status in OPEN_STATUSES:
            work_order_cancel(order=order, user=user, reason=note)
        cut.status = ActionStatus.CANCELLED
        cut.closed_at = now
        cut.note = note[:200]
        cut.save(update_fields=["status", "closed_at", "note"])
        cancelled += 1
    return cancelled


def _open_episode(*, account_id: int, day: dt.date) -> CollectionEpisode:
    episode = CollectionEpisode.objects.filter(
        account_id=account_id, closed_on__isnull=True
    ).first()
    if episode is not None:
        return episode
    try:
        with transaction.atomic():
            return CollectionEpisode.objects.create(account_id=account_id, opened_on=day)
    except IntegrityError:
        # The nightly evaluation opened it meanwhile (one open episode per account).
        return CollectionEpisode.objects.get(account_id=account_id, closed_on__isnull=True)


def _turned_to_legal(*, account_id: int, day: dt.date, reason: str, user):
    """The "turned to legal" action of an account that owes past due, in its open episode
    (opened now if the night has not yet): the next step of the episode, issued at once, the
    reminders and notices still standing superseded. None when nothing is past due."""
    aging = account_aging(account=account_id, day=day)
    if aging is None or aging.overdue <= 0:
        return None, None
    episode = _open_episode(account_id=account_id, day=day)
    last = (
        CollectionAction.objects.filter(episode=episode, step__isnull=False)
        .order_by("-step")
        .values_list("step", flat=True)
        .first()
    )
    now = timezone.now()
    action = CollectionAction.objects.create(
        account_id=account_id,
        episode=episode,
        kind=ActionKind.JUDICIAL,
        # After the steps taken: the judicial ladder's automatic referral (step 1) is then
        # never added a second time, and the normal ladder does not resume in this episode.
        step=(last or 0) + 1,
        status=ActionStatus.ISSUED,
        day=day,
        amount_owed=aging.overdue,
        periods_overdue=min(aging.periods, 32767),
        days_overdue=aging.days_overdue,
        assigned_to=user,
        note=reason[:200],
        created_at=now,
        issued_at=now,
    )
    CollectionAction.objects.filter(
        episode=episode,
        status=ActionStatus.ISSUED,
        kind__in=(ActionKind.REMINDER, ActionKind.FORMAL_NOTICE),
    ).update(status=ActionStatus.SUPERSEDED, closed_at=now)
    return episode, action


@transaction.atomic
def collection_type_change(
    *, account, collection_type: str, reason: str, user, day: dt.date | None = None
) -> CollectionTypeChange:
    """Move an account to judicial or special collection, or back to normal, logging who
    decided, when and why (:class:`CollectionTypeChange`). Judicial and special accounts are
    collected on their own ladders (no automatic suspension): their standing cut actions not
    yet carried out are cancelled with their orders. An account turned to judicial collection
    that owes past due gets its "turned to legal" action now (its PDF is the demand letter).
    Back to normal, the nightly ladder takes over again (a new overdue episode starts it over).

    Raises ``type_invalid``, ``reason_required`` and ``type_unchanged`` (409)."""
    if collection_type not in CollectionType.values:
        raise CollectionError(
            "type_invalid",
            _("Choose normal, judicial or special collection."),
            field="collection_type",
        )
    reason = (reason or "").strip()
    if not reason:
        raise CollectionError(
            "reason_required", _("Say why the collection type changes."), field="reason"
        )
    account_id = getattr(account, "pk", account)
    # One change at a time per account: the account row is the lock.
    ServiceAccount.objects.select_for_update().filter(pk=account_id).order_by("pk").first()
    current = AccountCollectionType.objects.filter(account_id=account_id).first()
    before = current.collection_type if current else CollectionType.NORMAL
    if before == collection_type:
        raise CollectionError(
            "type_unchanged",
            _("The account is already in %(type)s.")
            % {"type": str(CollectionType(collection_type).label).lower()},
            field="collection_type",
            status=409,
        )
    day = day or timezone.localdate()
    now = timezone.now()
    if collection_type == CollectionType.NORMAL:
        current.delete()  # absent: normal
    else:
        AccountCollectionType.objects.update_or_create(
            account_id=account_id,
            defaults={
                "collection_type": collection_type,
                "note": reason[:200],
                "changed_at": now,
                "changed_by": user,
            },
        )
        _cuts_withdraw(
            account_id=account_id,
            user=user,
            note=_("Moved to %(type)s: %(reason)s")
            % {"type": str(CollectionType(collection_type).label).lower(), "reason": reason},
        )
    episode = action = None
    if collection_type == CollectionType.JUDICIAL:
        episode, action = _turned_to_legal(account_id=account_id, day=day, reason=reason, user=user)
    if episode is None:
        episode = CollectionEpisode.objects.filter(
            account_id=account_id, closed_on__isnull=True
        ).first()
    return CollectionTypeChange.objects.create(
        account_id=account_id,
        episode=episode,
        from_type=before,
        to_type=collection_type,
        reason=reason[:200],
        decided_by=user,
        decided_at=now,
        action=action,
    )


# --- large consumers and collectors -------------------------------------------------------------

# The top accounts by billed consumption over the year up to ``day``, or by what they owe
# (the ledger's sum): candidates to be large consumers.
TOP_SQL = {
    LargeConsumerBasis.CONSUMPTION: """
        SELECT c.account_id FROM metering_accountconsumption c
          JOIN metering_readingperiod p ON p.id = c.period_id
         WHERE p.ends_on > %(day)s::date - 365 AND p.starts_on <= %(day)s::date
         GROUP BY c.account_id HAVING sum(c.volume_m3) > 0
         ORDER BY sum(c.volume_m3) DESC, c.account_id LIMIT %(top)s""",
    LargeConsumerBasis.DEBT: """
        SELECT e.account_id FROM billing_ledgerentry e
         GROUP BY e.account_id HAVING sum(e.amount) > 0
         ORDER BY sum(e.amount) DESC, e.account_id LIMIT %(top)s""",
}


@transaction.atomic
def large_consumers_mark(*, top: int, by: str, day: dt.date, executive=None) -> int:
    """Mark the ``top`` accounts by consumption (last 365 days of periods) or by debt as
    large consumers (accounts already marked keep their executive and date). Returns how
    many were added. Raises ``top_invalid`` and ``basis_invalid``."""
    if not isinstance(top, int) or not (1 <= top <= 100_000):
        raise CollectionError("top_invalid", _("Choose from 1 to 100000 accounts."), field="top")
    if by not in TOP_SQL:
        raise CollectionError(
            "basis_invalid", _("Rank large consumers by consumption or by debt."), field="by"
        )
    return execute(
        f"""INSERT INTO collection_largeconsumer (account_id, executive_id, basis, since)
            SELECT t.account_id, %(executive)s, %(by)s, %(day)s FROM ({TOP_SQL[by]}) t
            ON CONFLICT (account_id) DO NOTHING""",  # noqa: S608
        {"top": top, "by": by, "day": day, "executive": getattr(executive, "pk", executive)},
    )


@transaction.atomic
def large_consumer_save(*, account, executive=None, since: dt.date | None = None) -> LargeConsumer:
    """Mark one account as a large consumer by hand, or change its executive."""
    consumer, _created = LargeConsumer.objects.update_or_create(
        account_id=getattr(account, "pk", account),
        defaults={"executive": executive},
        create_defaults={
            "executive": executive,
            "basis": LargeConsumerBasis.MANUAL,
            "since": since or timezone.localdate(),
        },
    )
    return consumer


@transaction.atomic
def collector_assign(*, collector, account=None, sector=None) -> CollectorAssignment:
    """Put ``collector`` in charge of one account or of a commercial sector (replacing who
    was). Raises ``target_required`` (neither or both given)."""
    if (account is None) == (sector is None):
        raise CollectionError(
            "target_required", _("Assign the collector to an account or to a sector.")
        )
    key = {"account": account} if account is not None else {"sector": sector}
    assignment, _created = CollectorAssignment.objects.update_or_create(
        **key, defaults={"collector": collector, "assigned_at": timezone.now()}
    )
    return assignment
