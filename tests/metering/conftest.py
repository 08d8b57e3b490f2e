import pytest

from tests.metering.factories import reader, year_periods


@pytest.fixture
def periods(db):
    """Monthly reading periods of 2025, cycle 1 (the factories' accounts' cycle)."""
    return year_periods(2025)


@pytest.fixture
def lector(db):
    return reader("lector")


@pytest.fixture(autouse=True)
def english():
    """Messages in English unless a test asks otherwise (requests switch by Accept-Language;
    the language a request activated must not leak into the next test's assertions)."""
    from django.utils import translation

    with translation.override("en"):
        yield
