"""Settings shared by every environment; values come from the environment (12-factor).

Modules: ``dev`` (the demo and local work), ``test`` (pytest), ``production`` (no secret defaults).
"""

from pathlib import Path

import environ
import pghistory
from django.utils.translation import gettext_lazy as _

from config.local_services import LOCAL_DATABASE_URL, LOCAL_REDIS_URL

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "leaflet",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "core",
    "core.notifications",
    "gis_core",
    "cadastre",
    "sectors",
    "metering",
    "routing",
    "billing",
    "billing.payments",
    "billing.agreements",
    "billing.cfdi",
    "billing.collection",
    "billing.credit",
    "orders",
    "network",
    "admin_erp",
    "tiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication: every write of a request is attributed to its user in history.
    "core.middleware.HistoryMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=LOCAL_DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", 60)


def session_defaults(database: dict) -> dict:
    """Settings every session of ours starts with (libpq ``options``).

    ``pgtrigger.ignore`` = ``{}`` (no trigger ignored): each row trigger of django-pgtrigger
    (the history triggers) first reads this setting inside a PL/pgSQL exception block. Unset,
    the read raises, and the block's subtransaction is rolled back — and PostgreSQL's rollback
    of a subtransaction scans every trigger event still pending in the transaction (the
    deferred foreign-key checks). A transaction writing many tracked rows then slows down
    quadratically: 20,000 rows after 20,000 others took 2.1 s instead of 0.15 s. With the
    setting present the read succeeds and the subtransaction is released, at no cost.
    ``pgtrigger.ignore()`` resets it to this default when it ends."""
    options = database.setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c pgtrigger.ignore={{}}".strip()
    return database


session_defaults(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default=LOCAL_REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "core.cache.PooledRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CAUDAL_CACHE_PREFIX", default="caudal"),
    }
}

# Sessions read from Redis first: every map tile request authenticates, and a database round
# trip per tile would be a third of a cached tile's cost.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "landing"

# i18n: Spanish (Mexico) first, English second. Stored UTC, shown in the utility's zone.
LANGUAGE_CODE = "es-mx"
LANGUAGES = [("es-mx", _("Spanish (Mexico)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env("CAUDAL_TIME_ZONE", default="America/Mexico_City")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("CAUDAL_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Spatial policy -------------------------------------------------------------------------
# One projected CRS per installation: every stored geometry uses it, so areas and distances are
# metres. Default: WGS 84 / UTM zone 14N, which covers central Mexico (Bajío, CDMX, Puebla).
# It is read when migrations create geometry columns: choose it before the first `migrate`.
CAUDAL_SRID = env.int("CAUDAL_SRID", 32614)
# Where the demo city is built (longitude, latitude); must fall inside CAUDAL_SRID's zone.
CAUDAL_DEMO_CENTER = tuple(env.list("CAUDAL_DEMO_CENTER", cast=float, default=[-100.81, 20.53]))

# --- Cadastre editing and imports ------------------------------------------------------------
# Topology rules of parcel edits, in metres of the storage CRS.
CAUDAL_TOPOLOGY = {
    # Overlap with a neighbour (or outside the block) thinner than this is tolerated as noise.
    "OVERLAP_TOLERANCE_M": env.float("CAUDAL_OVERLAP_TOLERANCE_M", 0.05),
    # New vertices closer than this to a neighbour's vertex or edge are moved onto it.
    "SNAP_TOLERANCE_M": env.float("CAUDAL_SNAP_TOLERANCE_M", 0.30),
    # Census/reconciliation: a service point farther than this outside its parcel is suspicious
    # (closer points are connections on the street side, which is normal).
    "SERVICE_POINT_MAX_OFFSET_M": env.float("CAUDAL_SERVICE_POINT_MAX_OFFSET_M", 25.0),
}
# Uploaded layers (GeoPackage, zipped Shapefile, GeoJSON, CSV): refused beyond these limits.
# Orthophotos (gis_core.orthophotos): the web server's request-body limit should match.
CAUDAL_ORTHO_MAX_BYTES = env.int("CAUDAL_ORTHO_MAX_BYTES", 2 * 1024**3)
CAUDAL_ORTHO_MAX_PIXELS = env.int("CAUDAL_ORTHO_MAX_PIXELS", 1_000_000_000)
# Heat-map tiles are keyed on the source tables' generations; the TTL only bounds memory.
CAUDAL_HEAT_CACHE_SECONDS = env.int("CAUDAL_HEAT_CACHE_SECONDS", 300)
# OGC API collection extents (a full ST_Extent at 1M rows costs ~1 s).
CAUDAL_OGC_EXTENT_CACHE_SECONDS = env.int("CAUDAL_OGC_EXTENT_CACHE_SECONDS", 600)

CAUDAL_IMPORT_LIMITS = {
    "MAX_UPLOAD_BYTES": env.int("CAUDAL_IMPORT_MAX_UPLOAD_BYTES", 512 * 1024 * 1024),
    "MAX_ZIP_ENTRIES": env.int("CAUDAL_IMPORT_MAX_ZIP_ENTRIES", 50),
    "MAX_ZIP_RATIO": env.int("CAUDAL_IMPORT_MAX_ZIP_RATIO", 100),
    "MAX_UNZIPPED_BYTES": env.int("CAUDAL_IMPORT_MAX_UNZIPPED_BYTES", 2 * 1024 * 1024 * 1024),
    "MAX_FEATURES": env.int("CAUDAL_IMPORT_MAX_FEATURES", 3_000_000),
    "MAX_VERTICES_PER_FEATURE": env.int("CAUDAL_IMPORT_MAX_VERTICES", 10_000),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- History (django-pghistory) ------------------------------------------------------------
# History is read by object (``pgh_obj``) and by request (``pgh_context``); nothing searches
# event rows by the foreign keys they copy from the tracked row (a parcel event's block, an
# account event's customer…). Those copies are kept as plain columns without an index: each
# index on an event table is paid by every tracked write and by every bulk import's snapshots.
# (Geometry columns of event tables lose their spatial index in core.history.track_history.)
PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)
PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(db_index=True)
PGHISTORY_CONTEXT_FIELD = pghistory.ContextForeignKey(db_index=True)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.CaudalAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Caudal API",
    "DESCRIPTION": "Cadastre, commercial and network management for water utilities.",
    "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "kind" or "status" field with different choices; without names
    # drf-spectacular would hash them into the component names (and warn).
    "ENUM_NAME_OVERRIDES": {
        "LocalityKindEnum": "cadastre.models.LocalityKind",
        "PartyKindEnum": "cadastre.models.PartyKind",
        "SearchHitKindEnum": "cadastre.selectors.SEARCH_KINDS",
        "SectorAreaKindEnum": "sectors.models.KINDS",
        # drf-spectacular's rest_framework_gis support adds these two the first time it meets
        # a GeoJSON serializer, after the overrides may already have been read (and cached)
        # for another schema: a later schema then names the "type" enums by hash and warns.
        "GisFeatureEnum": ("Feature",),
        "GisFeatureCollectionEnum": ("FeatureCollection",),
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Map widgets (django-leaflet) -----------------------------------------------------------
# No online base map: admin maps draw on a blank canvas until the tile service (our own layers
# and orthophotos) provides one.
LEAFLET_CONFIG = {
    "TILES": [],
    "DEFAULT_CENTER": (CAUDAL_DEMO_CENTER[1], CAUDAL_DEMO_CENTER[0]),
    "DEFAULT_ZOOM": 13,
    # With no tile layer Leaflet cannot infer a max zoom; parcels need street-level zooms.
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 21,
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}


# Debian 12 ships GDAL 3.6, which cannot block file/network access from spatial references
# (gis.W001 asks for GDAL 3.9). Caudal never passes user-supplied paths or URLs to GDAL as
# references: uploads are written to a temporary file the server names, and SRIDs are integers.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
