"""What tests against real server processes share: the markers for what they need (PostgreSQL,
Redis), the URL of the test database for the servers, and a signed-in browser's session cookie."""

import os
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

NEEDS_POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=(
        "needs PostgreSQL: server processes open the test database (a SQLite one lives in this process's "
        f"memory) and write to it concurrently; the database is {connection.vendor} "
        "(set DATABASE_URL to a PostgreSQL database)"
    ),
)
NEEDS_REDIS = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs Redis shared by the server processes: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)",
)


def database_url_for_servers() -> str:
    """DATABASE_URL of the database this test runs in (pytest-django's test database, not DATABASE_URL's)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{quote(db['NAME'], safe='')}"


def session_cookie(user) -> str:
    """`name=value` of a session signed in as `user`: a session row in the test database, which the
    servers read. Sent by hand: the test settings mark cookies Secure, and the servers speak plain HTTP."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
