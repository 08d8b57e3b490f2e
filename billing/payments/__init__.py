"""Payments from every window (issue 9: channels and allocation).

Where things are
----------------

- ``models.py``: :class:`Payment` (one ledger credit entry each, a trigger checks it mirrors
  the payment), :class:`CashSession`, :class:`BankFile` / :class:`BankFileLine`,
  :class:`PaymentClient` / :class:`IdempotencyRecord`.
- ``services.py``: ``payment_post``, ``payment_reverse``, ``cash_session_open``,
  ``cash_session_close``, ``cash_session_reconcile`` (locks: account → session row → inserts).
- ``selectors.py``: a payment's allocation, payments of an account / a session / a day, the
  account look-up by number or payment reference (ISO 7064 MOD 97-10 check).
- ``bank_files.py``: the bank collection file layout (CSV
  ``referencia,importe,fecha,hora,sucursal,autorizacion``; read its docstring) and its import:
  all or nothing, once per file (SHA-256), once per (bank, authorization).
- ``online.py``: HMAC-SHA256 request signing (``X-Caudal-Key``, ``X-Caudal-Timestamp``,
  ``X-Caudal-Signature``, 5 minutes tolerance) and the ``Idempotency-Key`` design (claim the key
  in its own committed insert, queue on its row lock, store the answer).
- ``gateways.py``: the kiosk's ``CardGateway`` protocol, the generic HTTP gateway
  (``CAUDAL_CARD_GATEWAY``) and ``TestCardGateway``, the documented double.
- ``api.py`` (/api/payments/), ``views.py`` + ``templates/payments`` + ``static/payments``
  (/pay/cashier/, /pay/kiosk/, /pay/receipt/<id>/).

Allocation is :mod:`billing.settlement`'s: oldest debt first, then the configured concept
order; what is left is free credit, applied by the next settlement (a later payment or bill).
A reversal (bounced cheque, chargeback) makes the payment's settlements stop counting, so
exactly what it paid is owed again, and the account's other free credit is re-applied.
"""
