#!/usr/bin/env python
"""Checks that every user-facing string is in the Spanish (Mexico) catalog and translated.

Runs ``makemessages`` into a scratch copy of the catalog and compares message ids:
- a msgid in the code but not in locale/es_MX → a string someone forgot to translate;
- an empty or fuzzy msgstr → an untranslated string.
``--update`` rewrites locale/es_MX/LC_MESSAGES/django.po from the code and scripts/es_mx/.
Exit status 1 when something is missing (used by `make lint` and by the test suite).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locale" / "es_MX" / "LC_MESSAGES" / "django.po"
IGNORES = [".venv", "node_modules", "var", "static", "tests", "bench", "scripts"]


def extract() -> polib.POFile:
    """The catalog makemessages would produce from the code now."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for entry in ROOT.iterdir():
            if entry.name in IGNORES or entry.name.startswith("."):
                continue
            (work / entry.name).symlink_to(entry)
        (work / "locale").unlink()
        (work / "locale").mkdir()
        args = [
            sys.executable,
            str(ROOT / "manage.py"),
            "makemessages",
            "-l",
            "es_MX",
            "--no-location",
            "--symlinks",
            "-v",
            "0",
        ]
        for ignore in IGNORES:
            args += ["--ignore", ignore]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
        subprocess.run(args, cwd=work, check=True, env=env)  # noqa: S603
        return polib.pofile(str(work / "locale" / "es_MX" / "LC_MESSAGES" / "django.po"))


def problems() -> list[str]:
    code = extract()
    catalog = polib.pofile(str(CATALOG))
    known = {(e.msgctxt, e.msgid): e for e in catalog}
    found = []
    for entry in code:
        have = known.get((entry.msgctxt, entry.msgid))
        if have is None:
            found.append(f"not in catalog: {entry.msgid!r}")
        elif not have.translated() or "fuzzy" in have.flags:
            found.append(f"untranslated: {entry.msgid!r}")
    return found


def update() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from es_mx import ES_MX

    code = extract()
    for entry in code:
        if entry.msgid in ES_MX:
            entry.msgstr = ES_MX[entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
    code.metadata.update(
        {
            "Language": "es_MX",
            "Content-Type": "text/plain; charset=UTF-8",
            "Plural-Forms": "nplurals=2; plural=(n != 1);",
        }
    )
    CATALOG.parent.mkdir(parents=True, exist_ok=True)
    code.save(str(CATALOG))


if __name__ == "__main__":
    if "--update" in sys.argv:
        update()
    missing = problems()
    for line in missing:
        print(line)
    if missing:
        print(
            f"{len(missing)} message(s) need a Spanish translation "
            f"(add them to a module of scripts/es_mx/, then run scripts/check_messages.py --update)"
        )
        sys.exit(1)
    print("translations: complete")
