"""The sending interface: one :class:`Channel` per way of reaching a customer.

Which class serves which channel comes from ``settings.CAUDAL_NOTIFY["channels"]`` (dotted
paths), with these defaults:

- ``email`` → :class:`EmailChannel`: Django's configured e-mail backend (SMTP in production,
  ``EMAIL_HOST``/``EMAIL_PORT``/``EMAIL_HOST_USER``…; the tests run with Django's locmem
  backend, its own test backend).
- ``sms`` and ``whatsapp`` → :class:`RecordingChannel`, which sends **nothing**: it keeps what
  it would have sent in this process's memory. **Production must configure them**, e.g.::

      CAUDAL_NOTIFY = {
          "channels": {
              "sms": "core.notifications.channels.SmsChannel",
              "whatsapp": "core.notifications.channels.WhatsAppChannel",
          },
          "sms": {"url": "https://api.provider.example/2010-04-01", "account": "AC…",
                  "token": "…", "from": "+5255…"},
          "whatsapp": {"url": "…", "account": "…", "token": "…", "from": "+5255…"},
      }

  Notices "sent" through the recorder carry a provider id ``recorded:<n>`` so a forgotten
  configuration shows on every row.

A channel never raises for a delivery problem: it answers a :class:`SendResult` with the
provider's error, and the caller records it on the notice.
"""

from __future__ import annotations

import base64
import json
import smtplib
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.utils import DNS_NAME
from django.utils.module_loading import import_string

DEFAULT_CHANNELS = {
    "email": "core.notifications.channels.EmailChannel",
    "sms": "core.notifications.channels.RecordingChannel",
    "whatsapp": "core.notifications.channels.RecordingChannel",
}
HTTP_TIMEOUT_S = 15


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_id: str = ""
    error: str = ""


class Channel(Protocol):
    def send(self, to: str, subject: str, body: str) -> SendResult: ...


def notify_settings() -> dict:
    return getattr(settings, "CAUDAL_NOTIFY", {}) or {}


def channel_for(name: str) -> Channel:
    """The configured channel for ``name`` (email, sms, whatsapp). Raises KeyError for a name
    nobody configured (a programming error: the channel names are the model's choices)."""
    paths = {**DEFAULT_CHANNELS, **notify_settings().get("channels", {})}
    return import_string(paths[name])(name=name)


class EmailChannel:
    """E-mail through Django's e-mail backend (one connection per channel object)."""

    def __init__(self, *, name: str = "email"):
        config = notify_settings().get(name, {})
        self.from_email = config.get("from") or settings.DEFAULT_FROM_EMAIL
        self.backend = config.get("backend")  # None: settings.EMAIL_BACKEND

    def send(self, to: str, subject: str, body: str) -> SendResult:
        # Our own Message-ID, so the notice records the id a bounce or a complaint quotes.
        message_id = make_msgid(domain=str(DNS_NAME))
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=self.from_email,
            to=[to],
            headers={"Message-ID": message_id},
            connection=get_connection(self.backend),
        )
        try:
            sent = message.send(fail_silently=False)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            # SMTP refusals, unreachable server (OSError), malformed headers (ValueError).
            return SendResult(False, error=f"{type(exc).__name__}: {exc}"[:1000])
        if not sent:
            return SendResult(False, error="the backend accepted no message")
        return SendResult(True, provider_id=message_id)


class SmsChannel:
    """SMS through a Twilio-like REST provider: ``POST {url}/Accounts/{account}/Messages.json``
    with form fields To, From, Body and HTTP basic auth (account, token); the answer's ``sid``
    is the provider id. Configured by ``CAUDAL_NOTIFY["sms"]``."""

    prefix = ""

    def __init__(self, *, name: str = "sms"):
        self.config = notify_settings().get(name, {})

    def _address(self, number: str) -> str:
        return f"{self.prefix}{number}"

    def send(self, to: str, subject: str, body: str) -> SendResult:
        url = self.config.get("url", "").rstrip("/")
        account, token = self.config.get("account", ""), self.config.get("token", "")
        if not (url and account and token and self.config.get("from")):
            return SendResult(False, error="provider not configured (CAUDAL_NOTIFY)")
        data = urllib.parse.urlencode(
            {
                "To": self._address(to),
                "From": self._address(self.config["from"]),
                "Body": body,
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310  (https URL from settings)
            f"{url}/Accounts/{urllib.parse.quote(account)}/Messages.json",
            data=data,
            method="POST",
        )
        auth = base64.b64encode(f"{account}:{token}".encode()).decode()
        request.add_header("Authorization", f"Basic {auth}")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310
                answer = json.loads(response.read().decode() or "{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            return SendResult(False, error=f"HTTP {exc.code}: {detail}")
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            return SendResult(False, error=f"{type(exc).__name__}: {exc}"[:1000])
        return SendResult(True, provider_id=str(answer.get("sid", "")))


class WhatsAppChannel(SmsChannel):
    """WhatsApp through the same kind of provider: addresses carry the ``whatsapp:`` prefix.
    Configured by ``CAUDAL_NOTIFY["whatsapp"]``. Business-initiated WhatsApp messages need
    templates approved by the provider; the body sent is the rendered template."""

    prefix = "whatsapp:"

    def __init__(self, *, name: str = "whatsapp"):
        super().__init__(name=name)


class RecordingChannel:
    """The documented test double, and the default of SMS/WhatsApp until a provider is
    configured: what would be sent is appended to :attr:`sent` (shared by the process) and
    nothing leaves the machine. ``fail_for(address)`` makes sends to that address fail."""

    sent: list[dict] = []
    failing: dict[str, str] = {}
    _lock = threading.Lock()

    def __init__(self, *, name: str = "recording"):
        self.name = name

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.sent.clear()
            cls.failing.clear()

    @classmethod
    def fail_for(cls, address: str, error: str = "rejected by the recording channel") -> None:
        with cls._lock:
            cls.failing[address] = error

    def send(self, to: str, subject: str, body: str) -> SendResult:
        with self._lock:
            if to in self.failing:
                return SendResult(False, error=self.failing[to])
            self.sent.append({"channel": self.name, "to": to, "subject": subject, "body": body})
            return SendResult(True, provider_id=f"recorded:{len(self.sent)}")
