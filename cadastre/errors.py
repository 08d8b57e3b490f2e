"""The cadastre's domain error: a stable machine code, a translated message and the place.

Services raise :class:`CadastreError` for every rule an edit breaks; the API turns it into a
400 response with ``code``, ``message`` and ``where`` (a geometry the map highlights).
"""

from core.errors import DomainError


class CadastreError(DomainError):
    """A rejected cadastre edit. Nothing was written when it is raised.

    ``code`` is stable for programs (``"overlap"``, ``"outside_block"``, ``"invalid_geometry"``,
    ``"not_adjacent"``, ``"split_line_does_not_cross"``, ``"retired_parcel"``, …); ``message``
    says what and why for people, already translated into the active language (Spanish by
    default); ``where`` is the offending area or point in the storage SRID, or ``None``.
    """
