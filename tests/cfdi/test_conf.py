"""The issuer configuration: nothing is issued without it, and no CSD is assumed."""

import pytest

from billing.cfdi.conf import issuer_config
from billing.cfdi.errors import CfdiError
from tests.cfdi.conftest import TESTDATA, cfdi_test_settings


def refused(settings, value):
    settings.CAUDAL_CFDI = value
    with pytest.raises(CfdiError) as error:
        issuer_config().signer()
    assert (error.value.code, error.value.status) == ("not_configured", 503)
    return error.value.message


def test_no_setting_means_not_configured(settings):
    del settings.CAUDAL_CFDI
    with pytest.raises(CfdiError) as error:
        issuer_config()
    assert error.value.code == "not_configured"


def test_missing_keys_are_named(settings):
    message = refused(settings, cfdi_test_settings(CSD_KEY="", PAC=""))
    assert "CSD_KEY" in message and "PAC" in message


def test_a_missing_csd_file_is_refused(settings):
    assert "nowhere.cer" in refused(settings, cfdi_test_settings(CSD_CER="/nowhere.cer"))


def test_a_wrong_key_password_is_refused(settings):
    refused(settings, cfdi_test_settings(CSD_PASSWORD="wrong"))


def test_a_csd_of_another_rfc_is_refused(settings):
    message = refused(
        settings,
        cfdi_test_settings(
            CSD_CER=str(TESTDATA / "JES900109Q90_30001000000400002436.cer"),
            CSD_KEY=str(TESTDATA / "JES900109Q90_30001000000400002436.key"),
        ),
    )
    assert "JES900109Q90" in message


def test_an_unknown_pac_class_is_refused(settings):
    settings.CAUDAL_CFDI = cfdi_test_settings(PAC="billing.cfdi.pac.Nope")
    with pytest.raises(CfdiError) as error:
        issuer_config().pac()
    assert error.value.code == "not_configured"


def test_series_default_per_kind_and_can_be_set(settings):
    settings.CAUDAL_CFDI = cfdi_test_settings(SERIES={"global": "PG"})
    assert issuer_config().series == {"bill": "A", "global": "PG", "payment": "P"}
