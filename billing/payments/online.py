"""The online channel's two guards: who is calling (HMAC signature) and "this request was
already answered" (``Idempotency-Key``).

Signature
---------

Each request carries three headers::

    X-Caudal-Key:        the client's key id (:class:`PaymentClient.key_id`)
    X-Caudal-Timestamp:  Unix seconds when it was signed
    X-Caudal-Signature:  hex HMAC-SHA256(secret, "<timestamp>." + raw body bytes)

The timestamp must be within 5 minutes of the server's clock (a captured request cannot be
replayed later; within the window the idempotency key makes a replay harmless). The
comparison is constant-time. Missing headers, an unknown or inactive key, a stale timestamp
or a wrong signature answer 401.

Idempotency
-----------

``Idempotency-Key`` (1-100 characters) is required on POST. Per client and key, one
:class:`IdempotencyRecord` (a unique constraint) keeps the SHA-256 of the body first sent and,
once answered, the answer (status and body). The design, so it holds under real concurrency:

1. **Claim** the key in its own, immediately committed transaction:
   ``INSERT … ON CONFLICT (client_id, key) DO NOTHING``. Whoever comes first, every request
   with the key now finds one committed row.
2. **Queue** on that row: a second transaction takes ``SELECT … FOR UPDATE`` of it. One request
   at a time holds it; the others wait on the row lock (no polling, no advisory lock to leak).
3. Under the lock: a body whose SHA-256 differs from the stored one → 422 (the key was used for
   another request). A stored answer → returned as is (same status, same body), nothing posted.
   Otherwise the payment is posted and its answer stored in the same transaction; the lock is
   released at commit and the next waiter finds the answer.

Refusals of the payment itself (unknown account, bad amount…) are stored as answers too: a
retry gets the same refusal. An unexpected failure (a server error) rolls back and stores
nothing, so a retry with the key tries again.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from django.db import connection, transaction
from django.utils.translation import gettext as _

from billing.payments.errors import PaymentError
from billing.payments.models import IdempotencyRecord, PaymentClient

TOLERANCE_SECONDS = 300
KEY_HEADER = "X-Caudal-Key"
TIMESTAMP_HEADER = "X-Caudal-Timestamp"
SIGNATURE_HEADER = "X-Caudal-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    """The signature a client sends (and the server recomputes)."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _unauthorized(message) -> PaymentError:
    return PaymentError("bad_signature", message, status=401)


def client_verify(*, headers, body: bytes, now: float | None = None) -> PaymentClient:
    """The signing client of a request, or PaymentError ``bad_signature`` (401)."""
    key_id = headers.get(KEY_HEADER, "")
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not (key_id and timestamp and signature):
        raise _unauthorized(_("The request is not signed."))
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise _unauthorized(_("The request's timestamp is not valid.")) from None
    if abs((now if now is not None else time.time()) - signed_at) > TOLERANCE_SECONDS:
        raise _unauthorized(_("The request's timestamp is too old or in the future."))
    client = PaymentClient.objects.filter(key_id=key_id, active=True).first()
    # Compare even for an unknown key, so the answer time does not tell keys apart.
    expected = sign(secret=client.secret if client else "-", timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, signature) or client is None:
        raise _unauthorized(_("The request's signature is not valid."))
    return client


def idempotent(
    *,
    client: PaymentClient,
    key: str,
    body: bytes,
    perform: Callable[[], tuple[int, dict, int | None]],
) -> tuple[int, dict]:
    """Answer a request once per (client, key) — see the module docstring. ``perform`` posts
    and returns (HTTP status, body, payment id or None); a PaymentError it raises is stored as
    the answer. Must not run inside an outer transaction (the claim has to commit first)."""
    key = (key or "").strip()
    if not key or len(key) > 100:
        raise PaymentError(
            "no_idempotency_key",
            _("Send an Idempotency-Key header (1 to 100 characters)."),
            field=IDEMPOTENCY_HEADER,
        )
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO payments_idempotencyrecord (client_id, key, request_sha256,
                                                       created_at)
               VALUES (%s, %s, %s, now())
               ON CONFLICT (client_id, key) DO NOTHING""",
            [client.pk, key, digest],
        )
    with transaction.atomic():
        record = IdempotencyRecord.objects.select_for_update().get(client=client, key=key)
        if not hmac.compare_digest(record.request_sha256, digest):
            raise PaymentError(
                "idempotency_key_reused",
                _("This Idempotency-Key was used with another request; use a new key."),
                field=IDEMPOTENCY_HEADER,
                status=422,
            )
        if record.response_status is not None:
            return record.response_status, record.response_body
        try:
            with transaction.atomic():
                status, answer, payment_id = perform()
        except PaymentError as error:
            status, payment_id = error.status, None
            answer = {"code": error.code, "field": error.field, "detail": error.message}
        record.response_status = status
        record.response_body = answer
        record.payment_id = payment_id
        record.save(update_fields=["response_status", "response_body", "payment"])
        return status, answer
