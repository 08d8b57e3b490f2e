"""History of every domain table, recorded by database triggers (django-pghistory).

Triggers catch every write, including set-based SQL (``UPDATE … FROM``, ``INSERT … SELECT``)
that never passes through a model's ``save()``. Each event row carries who/when/what: the
request's user and URL (``pghistory.middleware.HistoryMiddleware``) or the management command
(:func:`command_context`).
"""

import pghistory

# What every domain model records: a snapshot on insert and on update, and the row as it was
# on delete. Apply as a decorator: ``@track_history()``.


def track_history(**kwargs):
    return pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), **kwargs
    )


def command_context(command: str, **metadata):
    """Attribute every write made inside the ``with`` block to a management command."""
    return pghistory.context(command=command, **metadata)
