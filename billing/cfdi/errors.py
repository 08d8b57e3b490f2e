"""The refusals of CFDI e-invoicing."""

from core.errors import DomainError


class CfdiError(DomainError):
    """A refused CFDI request; nothing was written (nor stamped) when it is raised, except with
    ``"not_recorded"``: the PAC stamped it, then our database refused to record it (the stamp is
    logged and kept as an :class:`~billing.cfdi.models.UnrecordedStamp` with its folio, see
    :func:`billing.cfdi.services._stamp_and_store`).

    ``code`` is stable for programs (``"not_configured"``, ``"invalid_receiver"``,
    ``"already_invoiced"``, ``"already_cancelled"``, ``"invalid_xml"``, ``"pac_error"``, …);
    ``message`` is translated for people.
    """
