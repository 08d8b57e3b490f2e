"""The refusals of billing."""

from core.errors import DomainError


class BillingError(DomainError):
    """A rejected billing request or edit; nothing was written when it is raised.

    ``code`` is stable for programs (``"invalid_tariff"``, ``"no_calendar"``,
    ``"run_in_progress"``, ``"already_reversed"``, …); ``message`` is translated for people.
    """
