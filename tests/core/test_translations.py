import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import check_messages  # noqa: E402


def test_every_translatable_string_has_a_spanish_translation():
    assert check_messages.problems() == []
