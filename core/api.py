"""What every app's API shares: permission classes and the answer to a refused request."""

from collections.abc import Callable

from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from core.errors import DomainError


def require_perms(*perms: str, unless: Callable | None = None) -> type[BasePermission]:
    """A DRF permission class: the signed-in user must hold every one of ``perms`` and, when
    ``unless`` is given, ``unless(user)`` must be false (e.g. office screens that show expected
    values are closed to meter readers even when they also hold an office role)."""

    class _HasPerms(BasePermission):
        def has_permission(self, request, view):
            user = request.user
            if not (user and user.is_authenticated and user.has_perms(perms)):
                return False
            return not (unless and unless(user))

    _HasPerms.__name__ = "HasPerms_" + "_".join(p.replace(".", "_") for p in perms)
    return _HasPerms


def domain_error_response(error: DomainError, *, conflict_codes: tuple[str, ...] = ()) -> Response:
    """The error's own HTTP status (400 unless the error says 404, 409…) with its code, field and
    translated message; 409 also for ``conflict_codes``, the codes that mean "the thing changed
    state meanwhile" (the client should reload, not fix its input)."""
    code = status.HTTP_409_CONFLICT if error.code in conflict_codes else error.status
    return Response(
        {"code": error.code, "field": error.field, "detail": error.message}, status=code
    )
