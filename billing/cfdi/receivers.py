"""The receiver of a CFDI: defaults kept per customer, checked before anything is signed.

Checks are SAT's basic ones, enough to refuse at the counter what a PAC would refuse later:
a valid RFC (python-stdnum, check digit included; the generic RFCs are for the global invoice
only), a regime of SAT's catalog that fits a person (13-character RFC) or a company (12), a CFDI
use of the catalog allowed for that regime (c_UsoCFDI's regime column, simplified), and a
postal code of SAT's catalog (satcfdi's copy of c_CodigoPostal).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from satcfdi.catalogs import select, select_all
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.mx import rfc as stdnum_rfc

from billing.cfdi.build import PUBLIC_RFC, Receiver
from billing.cfdi.errors import CfdiError

GENERIC_RFCS = (PUBLIC_RFC, "XEXX010101000")

# c_RegimenFiscal: who may hold each regime (persona Física / Moral).
PERSON_REGIMES = {
    "605", "606", "607", "608", "610", "611", "612", "614", "615", "616", "621", "625", "626",
    "629", "630",
}  # fmt: skip
COMPANY_REGIMES = {"601", "603", "607", "609", "610", "620", "622", "623", "624", "626", "628"}

# c_UsoCFDI: the regimes each family of uses admits (SAT's catalog, simplified to families).
BUSINESS_REGIMES = {"601", "603", "606", "612", "620", "621", "622", "623", "624", "625", "626"}
DEDUCTION_REGIMES = {"605", "606", "608", "611", "612", "614", "607", "615", "625"}
NOT_FOR_INCOME = {"CP01", "CN01", "P01"}


def _invalid(message, field: str) -> CfdiError:
    return CfdiError("invalid_receiver", message, field=field)


def receiver_validate(receiver: Receiver) -> Receiver:
    """The receiver normalized (RFC compact and upper case), or ``invalid_receiver`` naming the
    field at fault."""
    rfc = stdnum_rfc.compact(receiver.rfc or "")
    if rfc in GENERIC_RFCS:
        raise _invalid(
            _("%(rfc)s is the RFC of the general public: include the sale in the global invoice.")
            % {"rfc": rfc},
            "rfc",
        )
    try:
        stdnum_rfc.validate(rfc, validate_check_digits=True)
    except StdnumValidationError as exc:
        raise _invalid(
            _("%(rfc)s is not a valid RFC: %(reason)s")
            % {"rfc": receiver.rfc, "reason": exc.message},
            "rfc",
        ) from exc
    person = len(rfc) == 13
    name = " ".join((receiver.name or "").split())
    if not name:
        raise _invalid(
            _("The receiver's name is required, as it appears in the SAT's registry."), "name"
        )
    regime = (receiver.tax_regime or "").strip()
    if regime not in select_all("C756_c_RegimenFiscal"):
        raise _invalid(
            _("%(code)s is not a SAT tax regime.") % {"code": regime or "-"}, "tax_regime"
        )
    if regime not in (PERSON_REGIMES if person else COMPANY_REGIMES):
        raise _invalid(
            _("Tax regime %(code)s is not for a %(kind)s.")
            % {"code": regime, "kind": _("person") if person else _("company")},
            "tax_regime",
        )
    use = (receiver.cfdi_use or "").strip().upper()
    if use not in select_all("C756_c_UsoCFDI") or use in NOT_FOR_INCOME:
        raise _invalid(
            _("%(code)s is not a CFDI use for an invoice.") % {"code": use or "-"}, "cfdi_use"
        )
    allowed = (
        use == "S01"
        or (use.startswith("D") and person and regime in DEDUCTION_REGIMES)
        or (use[0] in "GI" and regime in BUSINESS_REGIMES)
    )
    if not allowed:
        raise _invalid(
            _("CFDI use %(use)s is not allowed for tax regime %(regime)s.")
            % {"use": use, "regime": regime},
            "cfdi_use",
        )
    postal_code = (receiver.postal_code or "").strip()
    if (
        not (len(postal_code) == 5 and postal_code.isdigit())
        or select("C756_c_CodigoPostal", postal_code) is None
    ):
        raise _invalid(
            _("%(code)s is not a postal code of the SAT's catalog (5 digits).")
            % {"code": postal_code or "-"},
            "postal_code",
        )
    return Receiver(rfc=rfc, name=name, tax_regime=regime, cfdi_use=use, postal_code=postal_code)


def receiver_of_customer(customer, override: dict | None = None) -> Receiver:
    """The customer's CFDI defaults, with any field of ``override`` (rfc, name, tax_regime,
    cfdi_use, postal_code) replacing its default; validated."""
    values = {
        "rfc": customer.rfc,
        "name": customer.full_name,
        "tax_regime": customer.tax_regime,
        "cfdi_use": customer.cfdi_use,
        "postal_code": customer.tax_postal_code,
    }
    values.update({k: v for k, v in (override or {}).items() if k in values and v})
    return receiver_validate(Receiver(**values))
