"""The refusals of adjustments and payment agreements."""

from billing.errors import BillingError


class AgreementError(BillingError):
    """A refused adjustment or agreement request; nothing was written when it is raised.

    Codes: ``reason_inactive``, ``reason_kind``, ``bill_other_account``, ``bill_not_issued``,
    ``not_pending`` (409), ``own_request``, ``not_allowed``, ``not_approved`` (409),
    ``agreement_exists`` (409), ``nothing_owed``, ``down_payment``, ``installments``,
    ``rate``, ``first_due_date``, ``not_current`` (409).
    """
