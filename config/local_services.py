"""Addresses of the project-local PostGIS cluster and Redis that scripts/services.sh starts.

Used as defaults when DATABASE_URL / REDIS_URL are not set (never in production).
"""

import os

LOCAL_DATABASE_URL = (
    f"postgis://caudal@127.0.0.1:{int(os.environ.get('CAUDAL_PG_PORT', 55432))}/caudal"
)
LOCAL_REDIS_URL = f"redis://127.0.0.1:{int(os.environ.get('CAUDAL_REDIS_PORT', 56379))}/0"
