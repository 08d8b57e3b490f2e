"""Spanish (Mexico) translations of Caudal's messages, one module per area of the code so that
parallel work never edits the same file. Every module defines ``ES_MX = {msgid: msgstr}``;
``scripts/check_messages.py --update`` merges them into locale/es_MX/LC_MESSAGES/django.po."""

import importlib
import pkgutil

ES_MX: dict[str, str] = {}
for _module in pkgutil.iter_modules(__path__):
    ES_MX.update(importlib.import_module(f"{__name__}.{_module.name}").ES_MX)
