"""What the reliability tests share: who may run them, and real clients for a live server."""

import os
import shutil
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

NEEDS_POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=(
        f"needs PostgreSQL: concurrent writers on real row locks, opened by server processes; the database is "
        f"{connection.vendor} (set DATABASE_URL to a PostgreSQL database)"
    ),
)
NEEDS_REDIS = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs Redis shared by the server processes: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)",
)
CSRF_SECRET = "reliabilitytestcsrfsecret0123456"  # any 32 letters and digits; the form sends the same


def database_url_for_servers() -> str:
    """DATABASE_URL of the database this test runs in (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{quote(db['NAME'], safe='')}"


def session_headers(user) -> dict[str, str]:
    """Headers of a signed-in browser for `user` (cookies sent by hand: the test settings mark them
    Secure, and the live server speaks plain HTTP)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={CSRF_SECRET}"}


def token_headers(user) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


@pytest.fixture
def redis_server_binary():
    """The `redis-server` binary for a private Redis; on CI a missing one is a failure, not a skip."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (CI installs the redis-server package)")
        pytest.skip("needs the redis-server binary to run a Redis of its own (apt-get install redis-server)")
    return binary


@pytest.fixture(autouse=True)
def no_n_plus_one():
    """Overrides the suite's N+1 guard here: these tests seed and check whole populations in plain
    loops on purpose, and the server processes they measure are not under the guard anyway."""
    yield
