"""What every benchmark here does first: its own PostgreSQL database, Django on the bench
settings, and the measurements taken as the application role (row-level security on)."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(message, flush=True)


def database_urls(name: str, *, why: str) -> tuple[str, str]:
    """The maintenance database's URL and the benchmark database's, from DATABASE_URL (the
    owner role). Exits with ``why`` PostgreSQL is needed when it names anything else."""
    parsed = urlparse(os.environ.get("DATABASE_URL", ""))
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            f"{why}; DATABASE_URL is {parsed.scheme or 'not set'!r}.\n"
            "Set it to the owner role, e.g. DATABASE_URL=postgres://seam_owner@127.0.0.1:5432/seam"
        )
    return (
        urlunparse(parsed._replace(path="/postgres")),
        urlunparse(parsed._replace(path=f"/{name}")),
    )


def ensure_database(admin_url: str, name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                log(f"creating database {name}")
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.pop("REDIS_URL", None)
    # WhiteNoise warns that collectstatic never ran; the pages are measured without assets.
    warnings.filterwarnings("ignore", message="No directory at")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def switch_to_app_role() -> str:
    """Reconnect as the application role, as production and the test suite do."""
    from django.conf import settings
    from django.db import connections

    for conn in connections.all():
        conn.close()
    default = connections["default"]
    default.settings_dict["USER"] = settings.DATABASE_APP_ROLE
    default.settings_dict["PASSWORD"] = os.environ.get(
        "DATABASE_APP_PASSWORD", os.environ.get("TEST_APP_DB_PASSWORD", "")
    )
    with default.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, bypass = cursor.fetchone()
    if bypass:
        raise SystemExit(f"{user} bypasses row-level security: not the application role")
    return user
