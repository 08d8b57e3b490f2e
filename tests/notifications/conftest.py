import pytest

from core.notifications.channels import RecordingChannel


@pytest.fixture(autouse=True)
def recording():
    """The SMS/WhatsApp test double, empty for each test."""
    RecordingChannel.reset()
    yield RecordingChannel
    RecordingChannel.reset()


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CAUDAL_NOTIFY = {}
