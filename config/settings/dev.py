"""Local development and the demo (`make demo`). Never used in production."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Development-only key; production.py requires DJANGO_SECRET_KEY with no default.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="caudal-dev-only-insecure-key-7f3a9c")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# The demo invoices with SAT's public test CSD and the test stamping double (billing.cfdi.pac):
# its CFDI carry a "no fiscal validity" legend. production.py has no such default.
_CFDI_TESTDATA = BASE_DIR / "billing" / "cfdi" / "testdata"  # noqa: F405
CAUDAL_CFDI = {
    "RFC": "EKU9003173C9",
    "NAME": "ESCUELA KEMPER URGATE",
    "TAX_REGIME": "603",
    "POSTAL_CODE": "42501",
    "CSD_CER": str(_CFDI_TESTDATA / "eku9003173c9_csd.cer"),
    "CSD_KEY": str(_CFDI_TESTDATA / "eku9003173c9_csd.key"),
    "CSD_PASSWORD": (_CFDI_TESTDATA / "EKU9003173C9.password.txt").read_text().strip(),
    "PAC": "billing.cfdi.pac.TestStampingPac",
}
