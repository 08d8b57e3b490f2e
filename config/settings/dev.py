"""Local development and the demo (`make demo`). Never used in production."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Development-only key; production.py requires DJANGO_SECRET_KEY with no default.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="caudal-dev-only-insecure-key-7f3a9c")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
