"""The one shape of a refused request or edit, shared by every app.

A domain error carries a stable ``code`` for programs, a ``message`` already translated into the
active language for people (what is wrong and where), and, when they apply, the input ``field``
at fault, the offending geometry ``where`` (storage SRID, for the map to highlight) and the HTTP
``status`` an API answers with. Raising one means nothing was written. Each app subclasses it
(``CadastreError``, ``MeteringError``, …) so callers can catch one app's refusals, or all.
"""


class DomainError(Exception):
    def __init__(self, code: str, message, *, field=None, where=None, status: int = 400):
        super().__init__(str(message))
        self.code = code
        self.message = str(message)
        self.field = field
        self.where = where
        self.status = status

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"
