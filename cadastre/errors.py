"""The cadastre's domain error: a stable machine code, a translated message and the place.

Services raise :class:`CadastreError` for every rule an edit breaks; the API turns it into a
400 response with ``code``, ``message`` and ``where`` (a geometry the map highlights).
"""


class CadastreError(Exception):
    """A rejected cadastre edit. Nothing was written when it is raised.

    ``code`` is stable for programs (``"overlap"``, ``"outside_block"``, ``"invalid_geometry"``,
    ``"not_adjacent"``, ``"split_line_does_not_cross"``, ``"retired_parcel"``, …); ``message``
    says what and why for people, already translated into the active language (Spanish by
    default); ``where`` is the offending area or point in the storage SRID, or ``None``.
    """

    def __init__(self, code, message, *, where=None):
        super().__init__(str(message))
        self.code = code
        self.message = str(message)
        self.where = where

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"CadastreError({self.code!r}, {self.message!r})"
