"""Translations of collections, second part: judicial and special collection (the log of
changes of collection type, the demand letter of an account turned to legal)."""

ES_MX = {
    # models
    "change of collection type": "cambio de tipo de cobranza",
    "changes of collection type": "cambios de tipo de cobranza",
    "previous collection type": "tipo de cobranza anterior",
    "new collection type": "tipo de cobranza nuevo",
    "action opened": "acción abierta",
    # services
    "Choose normal, judicial or special collection.": (
        "Elija cobranza normal, judicial o especial."
    ),
    "Say why the collection type changes.": "Indique por qué cambia el tipo de cobranza.",
    "The account is already in %(type)s.": "La cuenta ya está en %(type)s.",
    "Moved to %(type)s: %(reason)s": "Pasó a %(type)s: %(reason)s",
    # notices: the demand letter
    "Your account has been turned over to the utility's legal department for judicial "
    "collection. Pay the amount above, or sign a payment agreement, to stop the legal "
    "proceedings; from now on they may add their costs to your debt.": (
        "Su cuenta fue turnada al área jurídica del organismo para su cobro por la vía "
        "judicial. Pague el importe anterior, o firme un convenio de pago, para detener el "
        "procedimiento legal; a partir de ahora sus gastos podrán sumarse a su adeudo."
    ),
}
