"""Fixtures of the adjustments and agreements tests: a billed town's account, staff by role."""

import pytest

from core import roles
from tests.billing.factories import add_account, town
from tests.factories import UserFactory


@pytest.fixture
def place():
    return town()


@pytest.fixture
def account(place):
    return add_account(place, m3=10)


@pytest.fixture
def desk():
    return UserFactory(username="atencion", roles=[roles.CUSTOMER_SERVICE])


@pytest.fixture
def clerk():
    return UserFactory(username="facturacion", roles=[roles.BILLING_CLERK])


@pytest.fixture
def manager():
    return UserFactory(username="gerente", roles=[roles.MANAGER])
