"""The refusals of CFDI e-invoicing."""

from core.errors import DomainError


class CfdiError(DomainError):
    """A refused CFDI request; nothing was written (nor stamped) when it is raised.

    ``code`` is stable for programs (``"not_configured"``, ``"invalid_receiver"``,
    ``"already_invoiced"``, ``"already_cancelled"``, ``"invalid_xml"``, ``"pac_error"``, …);
    ``message`` is translated for people.
    """
