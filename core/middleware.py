"""Request middleware of our own.

:class:`HistoryMiddleware` is pghistory's (every write of a request is attributed to its user
and URL in the history tables) with one difference: the user is put in the history context
when the request first reads ``request.user``, not before the view runs. pghistory's own
middleware reads it up front, which loads the user from the database on every request — also
for a cached map tile, whose view checks the session itself in the same query that reads the
tile's generations (``tiles.services``). A view writes only after it has authenticated (a
permission check reads ``request.user``), so every write is still attributed; DRF, which sets
``request.user`` in the view, reaches the context through pghistory's request class as before.
"""

import pghistory
from django.core.handlers.asgi import ASGIRequest as DjangoASGIRequest
from django.core.handlers.wsgi import WSGIRequest as DjangoWSGIRequest
from django.utils.functional import LazyObject, SimpleLazyObject, empty
from pghistory import config
from pghistory.middleware import ASGIRequest, WSGIRequest


def _attributing(user):
    """``user`` (the auth middleware's lazy user, or a user) as a lazy user that, once
    loaded, names itself in the current history context."""

    def load():
        loaded = user
        if isinstance(user, LazyObject):
            if user._wrapped is empty:
                user._setup()
            loaded = user._wrapped
        pghistory.context(user=loaded.pk if loaded.is_authenticated else None)
        return loaded

    return SimpleLazyObject(load)


class HistoryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in config.middleware_methods():
            return self.get_response(request)
        with pghistory.context(user=None, url=request.path):
            if hasattr(request, "user"):
                # Set before the class switch below: pghistory's request class reads the
                # value of every user assigned to it, which would load this one now.
                request.user = _attributing(request.user)
            if isinstance(request, DjangoWSGIRequest):
                request.__class__ = WSGIRequest
            elif isinstance(request, DjangoASGIRequest):
                request.__class__ = ASGIRequest
            return self.get_response(request)
