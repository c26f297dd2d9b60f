"""What the reliability tests share: who may run them, and real clients for a live server."""

import os
import shutil

import pytest
from django.conf import settings

from tests.live_servers import (  # noqa: F401 (the reliability tests import them from here)
    NEEDS_POSTGRES,
    NEEDS_REDIS,
    database_url_for_servers,
    session_cookie,
)

CSRF_SECRET = "reliabilitytestcsrfsecret0123456"  # any 32 letters and digits; the form sends the same


def session_headers(user) -> dict[str, str]:
    """Headers of a signed-in browser for `user`, with the CSRF cookie the forms' token matches."""
    return {"Cookie": f"{session_cookie(user)}; {settings.CSRF_COOKIE_NAME}={CSRF_SECRET}"}


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
