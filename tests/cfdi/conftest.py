"""CFDI tests: the issuer configured with SAT's public test CSD (EKU9003173C9, a company) and the
documented test stamping double; a billed town whose customer asked for invoices."""

from pathlib import Path

import pytest

from billing import services as billing_services
from billing.cfdi.pac import TestStampingPac
from billing.models import Bill
from tests.billing.factories import add_account, town
from tests.cadastre.factories_census import CustomerFactory
from tests.factories import UserFactory

TESTDATA = Path(__file__).resolve().parents[2] / "billing" / "cfdi" / "testdata"


def cfdi_test_settings(**overrides) -> dict:
    """``CAUDAL_CFDI`` for tests: SAT's test CSD of EKU9003173C9 and the test stamping double."""
    return {
        "RFC": "EKU9003173C9",
        "NAME": "ESCUELA KEMPER URGATE",
        "TAX_REGIME": "603",
        "POSTAL_CODE": "42501",
        "CSD_CER": str(TESTDATA / "eku9003173c9_csd.cer"),
        "CSD_KEY": str(TESTDATA / "eku9003173c9_csd.key"),
        "CSD_PASSWORD": "12345678a",
        "PAC": "billing.cfdi.pac.TestStampingPac",
        **overrides,
    }


@pytest.fixture
def cfdi_settings(settings):
    settings.CAUDAL_CFDI = cfdi_test_settings()
    TestStampingPac.cancellations.clear()
    return settings.CAUDAL_CFDI


@pytest.fixture
def user():
    return UserFactory(username="facturista")


def invoice_customer(**kwargs):
    """A customer with CFDI defaults: CACX7605101P8, a person's RFC of SAT's test data."""
    defaults = {
        "name": "XOCHILT",
        "first_surname": "CASAS",
        "second_surname": "CHAVEZ",
        "rfc": "CACX7605101P8",
        "tax_regime": "612",
        "cfdi_use": "G03",
        "tax_postal_code": "42501",
    }
    return CustomerFactory(**{**defaults, **kwargs})


def billed(*accounts_kwargs):
    """Run billing for accounts described by keyword dicts of ``add_account``; their bills."""
    t = town()
    accounts = [add_account(t, **kwargs) for kwargs in accounts_kwargs]
    run = billing_services.billing_run_start(period=t.period, enqueue=False)
    billing_services.billing_run_execute(run_id=run.pk)
    return [Bill.objects.get(account=account, status="issued") for account in accounts]
