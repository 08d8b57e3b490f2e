"""Card gateways of the kiosk: charge a card token, refund a charge.

- :class:`CardGateway`: the protocol the kiosk uses (the card never reaches Caudal: the
  terminal's PIN pad or the gateway's JS tokenises it, the server charges the token).
- :class:`HttpCardGateway`: a generic REST gateway configured by
  ``settings.CAUDAL_CARD_GATEWAY = {"url": "https://…/v1", "api_key": "…", "timeout": 20,
  "currency": "MXN"}``: ``POST {url}/charges {"amount": "12.50", "currency", "token",
  "reference"}`` and ``POST {url}/charges/{id}/refunds {"amount"}``, bearer key, JSON answers
  ``{"id", "status": "approved"|"declined", "authorization", "message"}``. urllib only; never
  called in tests.
- :class:`TestCardGateway`: the documented double, used by tests and demos. Tokens:
  ``tok_approved`` (and any token starting ``tok_ok``) is approved, ``tok_declined`` declined
  ("insufficient funds"), ``tok_error`` raises :class:`GatewayUnavailable`. It records every
  charge and refund in ``charges`` / ``refunds`` (class-level: the kiosk API builds a new
  instance per request).

:func:`card_gateway` returns the configured one: ``CAUDAL_CARD_GATEWAY["class"]`` ``"http"``
or ``"test"`` (demos, tests); nothing configured: :class:`NoCardGateway`, which refuses every
charge (a kiosk must never approve a charge nobody made).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    charge_id: str = ""
    authorization: str = ""
    message: str = ""


class GatewayUnavailable(Exception):
    """The gateway could not be reached or answered nonsense: nothing is known to be charged."""


class CardGateway(Protocol):
    def charge(self, *, amount: Decimal, token: str, reference: str) -> ChargeResult: ...

    def refund(self, *, charge_id: str, amount: Decimal) -> ChargeResult: ...


class HttpCardGateway:
    def __init__(self, config: dict):
        self.url = config["url"].rstrip("/")
        self.api_key = config.get("api_key", "")
        self.timeout = float(config.get("timeout", 20))
        self.currency = config.get("currency", "MXN")

    def _post(self, path: str, payload: dict) -> dict:
        request = urllib.request.Request(  # noqa: S310  (the URL is the operator's setting)
            self.url + path,
            data=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.api_key}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as exc:
            # Gateways answer a decline with 402 and a JSON body: still an answer.
            try:
                return json.loads(exc.read().decode())
            except ValueError:
                raise GatewayUnavailable(str(exc)) from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise GatewayUnavailable(str(exc)) from None

    @staticmethod
    def _result(data: dict) -> ChargeResult:
        return ChargeResult(
            approved=data.get("status") == "approved",
            charge_id=str(data.get("id", "")),
            authorization=str(data.get("authorization", "")),
            message=str(data.get("message", "")),
        )

    def charge(self, *, amount: Decimal, token: str, reference: str) -> ChargeResult:
        return self._result(
            self._post(
                "/charges",
                {
                    "amount": str(amount),
                    "currency": self.currency,
                    "token": token,
                    "reference": reference,
                },
            )
        )

    def refund(self, *, charge_id: str, amount: Decimal) -> ChargeResult:
        return self._result(self._post(f"/charges/{charge_id}/refunds", {"amount": str(amount)}))


TOKEN_APPROVED = "tok_approved"  # noqa: S105  (the double's documented test tokens)
TOKEN_DECLINED = "tok_declined"  # noqa: S105
TOKEN_ERROR = "tok_error"  # noqa: S105


class TestCardGateway:
    """The double of a card gateway (see the module docstring for its tokens)."""

    __test__ = False  # not a pytest test class
    charges: list[dict] = []
    refunds: list[dict] = []
    _lock = threading.Lock()

    def charge(self, *, amount: Decimal, token: str, reference: str) -> ChargeResult:
        if token == TOKEN_ERROR:
            raise GatewayUnavailable("test gateway: unavailable")
        approved = token == TOKEN_APPROVED or token.startswith("tok_ok")
        charge_id = f"ch_{uuid.uuid4().hex[:16]}"
        with self._lock:
            type(self).charges.append(
                {
                    "id": charge_id,
                    "amount": amount,
                    "token": token,
                    "reference": reference,
                    "approved": approved,
                }
            )
        if not approved:
            return ChargeResult(False, charge_id, "", "insufficient funds")
        return ChargeResult(True, charge_id, charge_id[-6:].upper(), "approved")

    def refund(self, *, charge_id: str, amount: Decimal) -> ChargeResult:
        with self._lock:
            type(self).refunds.append({"charge_id": charge_id, "amount": amount})
        return ChargeResult(True, charge_id, "", "refunded")

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.charges.clear()
            cls.refunds.clear()


class NoCardGateway:
    """No gateway configured: the kiosk answers that cards cannot be taken (never approve a
    charge nobody made)."""

    def charge(self, *, amount: Decimal, token: str, reference: str) -> ChargeResult:
        raise GatewayUnavailable("no card gateway configured (CAUDAL_CARD_GATEWAY)")

    def refund(self, *, charge_id: str, amount: Decimal) -> ChargeResult:
        raise GatewayUnavailable("no card gateway configured (CAUDAL_CARD_GATEWAY)")


def card_gateway() -> CardGateway:
    config = getattr(settings, "CAUDAL_CARD_GATEWAY", None) or {}
    kind = config.get("class", "")
    if kind == "http":
        return HttpCardGateway(config)
    if kind == "test":
        return TestCardGateway()
    return NoCardGateway()
