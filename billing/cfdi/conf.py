"""The issuer's CFDI configuration: who invoices, with which CSD, stamped by which PAC.

Read from the Django setting ``CAUDAL_CFDI`` (a dict). There is deliberately **no default** for
the CSD nor the PAC: an installation that has not configured them cannot issue (every operation
raises ``CfdiError("not_configured")``) rather than sign with someone else's certificate. SAT's
public test CSDs in ``billing/cfdi/testdata/`` are for tests and the demo only (they expired in
2023; a real PAC rejects them).

Keys of ``CAUDAL_CFDI``:

``RFC``            the utility's RFC (must be the RFC of the CSD certificate).
``NAME``           its name as registered at SAT (Emisor/Nombre), e.g. ``"ESCUELA KEMPER URGATE"``.
``TAX_REGIME``     its SAT regime code (Emisor/RegimenFiscal), e.g. ``"601"`` or ``"603"``.
``POSTAL_CODE``    LugarExpedicion: the 5-digit postal code where CFDI are issued.
``CSD_CER``        path of the CSD certificate (.cer, DER).
``CSD_KEY``        path of the CSD private key (.key, SAT's encrypted PKCS#8 DER).
``CSD_PASSWORD``   the key's password.
``PAC``            dotted path of a :class:`billing.cfdi.pac.Pac` class, e.g.
                   ``"billing.cfdi.pac.FinkokPac"`` (real) or ``"billing.cfdi.pac.TestStampingPac"``
                   (the test double: tests and the demo only).
``PAC_OPTIONS``    keyword arguments of that class (credentials), e.g. for Finkok
                   ``{"username": "...", "password": "...", "test_environment": False}``; the
                   test double takes ``{"receiver_acceptance": True}`` to act out
                   cancellations that wait for the receiver.
``SERIES``         optional serie per kind: ``{"bill": "A", "global": "G", "payment": "P"}``
                   (these are the defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from billing.cfdi.errors import CfdiError

DEFAULT_SERIES = {"bill": "A", "global": "G", "payment": "P"}
REQUIRED = ("RFC", "NAME", "TAX_REGIME", "POSTAL_CODE", "CSD_CER", "CSD_KEY", "CSD_PASSWORD", "PAC")


@dataclass(frozen=True)
class IssuerConfig:
    rfc: str
    name: str
    tax_regime: str
    postal_code: str
    csd_cer: Path
    csd_key: Path
    csd_password: str
    pac_path: str
    pac_options: dict = field(default_factory=dict)
    series: dict = field(default_factory=lambda: dict(DEFAULT_SERIES))

    def signer(self):
        """The CSD as a satcfdi ``Signer`` (loaded once per files and password); refuses a CSD
        whose certificate belongs to another RFC than the configured issuer's."""
        signer = _load_signer(str(self.csd_cer), str(self.csd_key), self.csd_password)
        if str(signer.rfc) != self.rfc:
            raise _not_configured(
                _("the CSD belongs to %(csd)s, not to %(rfc)s")
                % {"csd": signer.rfc, "rfc": self.rfc}
            )
        return signer

    def pac(self):
        """An instance of the configured PAC class, given the issuer and its options."""
        try:
            pac_class = import_string(self.pac_path)
        except ImportError as exc:
            raise _not_configured(
                _("the PAC class %(path)s cannot be imported") % {"path": self.pac_path}
            ) from exc
        return pac_class(issuer=self, **self.pac_options)


def _not_configured(detail) -> CfdiError:
    return CfdiError(
        "not_configured",
        _("CFDI invoicing is not configured (%(detail)s). Ask an administrator to set CAUDAL_CFDI.")
        % {"detail": detail},
        status=503,
    )


def issuer_config() -> IssuerConfig:
    """The configuration in ``settings.CAUDAL_CFDI``; raises ``not_configured`` when a required
    key is missing or a CSD file does not exist."""
    raw = getattr(settings, "CAUDAL_CFDI", None) or {}
    missing = [key for key in REQUIRED if not raw.get(key)]
    if missing:
        raise _not_configured(_("missing %(keys)s") % {"keys": ", ".join(missing)})
    cer, key = Path(raw["CSD_CER"]), Path(raw["CSD_KEY"])
    for path in (cer, key):
        if not path.is_file():
            raise _not_configured(_("the file %(path)s does not exist") % {"path": path})
    return IssuerConfig(
        rfc=raw["RFC"].strip().upper(),
        name=raw["NAME"].strip(),
        tax_regime=str(raw["TAX_REGIME"]),
        postal_code=str(raw["POSTAL_CODE"]),
        csd_cer=cer,
        csd_key=key,
        csd_password=raw["CSD_PASSWORD"],
        pac_path=raw["PAC"],
        pac_options=dict(raw.get("PAC_OPTIONS") or {}),
        series={**DEFAULT_SERIES, **(raw.get("SERIES") or {})},
    )


@cache
def _load_signer(cer: str, key: str, password: str):
    from satcfdi.models import Signer

    try:
        return Signer.load(
            certificate=Path(cer).read_bytes(), key=Path(key).read_bytes(), password=password
        )
    except (ValueError, TypeError) as exc:
        raise _not_configured(_("the CSD key cannot be opened with its password")) from exc
