"""The one error type of collections."""

from core.errors import DomainError


class CollectionError(DomainError):
    """A collections operation was refused; ``code`` is stable, ``message`` is translated."""
