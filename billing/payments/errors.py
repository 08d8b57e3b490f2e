"""The refusals of payments."""

from core.errors import DomainError


class PaymentError(DomainError):
    """A refused payment request; nothing was written when it is raised.

    ``code`` is stable for programs (``"bad_amount"``, ``"no_session"``, ``"session_closed"``,
    ``"already_reversed"``, ``"bad_signature"``, …), ``message`` translated for people,
    ``status`` the HTTP answer (400, 401, 404, 409, 422)."""
