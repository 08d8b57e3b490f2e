"""pytest settings: the same real PostGIS and Redis as development, fast password hashing."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "caudal-test-only-key"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# CAUDAL_TEST_DB lets several test runs share one server without clobbering each other.
DATABASES["default"]["TEST"] = {"NAME": env("CAUDAL_TEST_DB", default="test_caudal")}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests must not collide with a running demo's cache keys or Celery queue.
CACHES["default"]["KEY_PREFIX"] = "caudal-test"  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = env("CAUDAL_TEST_QUEUE", default="caudal-test")
# Static files in tests come from the finders (live_server serves them); whitenoise would only
# warn that collectstatic has not run.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}

# Redis database 1: a running demo's Celery worker (database 0) must not answer the tests'
# pings, nor take their tasks.
REDIS_URL = env("CAUDAL_TEST_REDIS_URL", default=LOCAL_REDIS_URL.rsplit("/", 1)[0] + "/1")  # noqa: F405
CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL

# Uploaded files (photos, orthophotos) of a test run go to a directory of its own, removed at
# the end of the session (tests/conftest.py), never into the demo's media.
MEDIA_ROOT = BASE_DIR / "var" / "test-media" / DATABASES["default"]["TEST"]["NAME"]  # noqa: F405
