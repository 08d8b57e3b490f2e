"""Validators of Mexican identifiers used by the customer roll."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.mx import rfc as stdnum_rfc


def normalize_rfc(value: str) -> str:
    return stdnum_rfc.compact(value or "")


def validate_rfc(value: str) -> None:
    """An RFC with a valid structure, date and check digit (python-stdnum).

    The generic RFCs of the SAT (XAXX010101000 for the general public, XEXX010101000 for
    foreigners) are accepted: utilities bill the general public with them.
    """
    if not value:
        return
    compact = normalize_rfc(value)
    if compact in ("XAXX010101000", "XEXX010101000"):
        return
    try:
        stdnum_rfc.validate(compact, validate_check_digits=True)
    except StdnumValidationError as exc:
        raise ValidationError(
            _("%(value)s is not a valid RFC: %(reason)s"),
            code="invalid_rfc",
            params={"value": value, "reason": exc.message},
        ) from exc
