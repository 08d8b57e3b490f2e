"""Health of the components a running Caudal depends on, for /healthz and monitoring."""

from django.conf import settings
from django.db import DatabaseError, connection
from redis import Redis
from redis.exceptions import RedisError


def database_health() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            postgresql = cursor.fetchone()[0]
            cursor.execute("SELECT postgis_lib_version()")
            postgis = cursor.fetchone()[0]
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'pgrouting'")
            row = cursor.fetchone()
    except DatabaseError as exc:
        return {"ok": False, "error": str(exc).strip()}
    return {
        "ok": True,
        "postgresql": postgresql,
        "postgis": postgis,
        "pgrouting": row[0] if row else None,
    }


def redis_health() -> dict:
    client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        info = client.info("server")
    except RedisError as exc:
        return {"ok": False, "error": str(exc)}
    finally:
        client.close()
    return {"ok": True, "version": info.get("redis_version")}


def celery_health(*, timeout: float = 1.5) -> dict:
    """Broadcasts a ping on the broker; healthy when at least one worker answers in time."""
    from config.celery import app

    try:
        replies = app.control.ping(timeout=timeout) or []
    except (OSError, RedisError) as exc:  # broker unreachable
        return {"ok": False, "workers": [], "error": str(exc)}
    workers = sorted(name for reply in replies for name in reply)
    return {"ok": bool(workers), "workers": workers}


def system_health() -> dict:
    components = {
        "database": database_health(),
        "redis": redis_health(),
        "celery": celery_health(),
    }
    status = "ok" if all(c["ok"] for c in components.values()) else "degraded"
    return {"status": status, **components}
