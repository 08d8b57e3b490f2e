"""History of every domain table, recorded by database triggers (django-pghistory).

Triggers catch every write, including set-based SQL (``UPDATE … FROM``, ``INSERT … SELECT``)
that never passes through a model's ``save()``. Each event row carries who/when/what: the
request's user and URL (``pghistory.middleware.HistoryMiddleware``) or the management command
(:func:`command_context`).
"""

from contextlib import contextmanager

import pghistory
import pgtrigger
from django.contrib.gis.db.models import GeometryField
from django.db import connection

from core.db import deferred_checks_run

# What every domain model records: a snapshot on insert and on update, and the row as it was
# on delete. Apply as a decorator: ``@track_history()``.


def track_history(*, inserts: bool = True, **kwargs):
    """``inserts=False`` for write-once rows loaded by the million (readings, consumption):
    the row itself is the record of its insert, and an insert snapshot would double the table;
    every later change and every delete is still recorded."""
    events = [pghistory.UpdateEvent(), pghistory.DeleteEvent()]
    if inserts:
        events.insert(0, pghistory.InsertEvent())
    tracker = pghistory.track(*events, **kwargs)

    def decorate(model):
        model = tracker(model)
        # pghistory copies each field with its options, a geometry's spatial index included;
        # nothing searches history by place (it is read by object), and a GiST entry costs
        # several times a b-tree one on every tracked write. pghistory has no setting for
        # this option (foreign keys: PGHISTORY_FOREIGN_KEY_FIELD in settings).
        for event_model in model.pgh_event_models.values():
            for field in event_model._meta.local_fields:
                if isinstance(field, GeometryField):
                    field.spatial_index = False
        return model

    return decorate


def command_context(command: str, **metadata):
    """Attribute every write made inside the ``with`` block to a management command."""
    return pghistory.context(command=command, **metadata)


@contextmanager
def history_paused(*models, events: tuple[str, ...] | None = None):
    """Switch off the history triggers of ``models`` for the enclosing transaction.

    For seeding synthetic data (the demo city): a million insert snapshots of generated rows
    tell nobody anything, and even an ignored trigger costs ~9 µs a row (``pgtrigger.ignore``
    still calls the trigger, which opens a subtransaction to read its setting). And for a
    writer that records the same events itself, set-based (the layer import's insert
    snapshots): ``events`` then names the triggers to pause (``("insert",)``); the others
    keep recording. ``ALTER TABLE … DISABLE TRIGGER`` is transactional: the triggers are back
    on at the end of the block, or at rollback, and no other session ever sees them off. It
    takes a SHARE ROW EXCLUSIVE lock on each table until the transaction ends: readers go on,
    other writers of those tables wait.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("history_paused() must run inside transaction.atomic()")
    labels = {model._meta.label for model in models}
    triggers = [
        (model._meta.db_table, trigger.get_pgid(model))
        for model, trigger in pgtrigger.registered()
        if model._meta.label in labels
        and (events is None or trigger.name in {f"{event}_{event}" for event in events})
    ]
    if events is not None and len(triggers) != len(models) * len(events):
        raise ValueError(f"history_paused: no {events} trigger on some of {sorted(labels)}")
    with connection.cursor() as cursor:
        deferred_checks_run()  # ALTER TABLE refuses tables with pending trigger events
        for table, pgid in triggers:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{pgid}"')
        yield
        deferred_checks_run()
        for table, pgid in triggers:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER "{pgid}"')
