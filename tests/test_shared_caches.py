"""Under ASGI, requests and sockets share the process's cache connection instead of opening one
each: Django keeps caches per asyncio context, and every request is a context of its own."""

import os

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.conf import settings
from django.test import Client

from marketplace_support.asgi import application
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.redis,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="counts connections to Redis: set REDIS_URL"),
]


@pytest.fixture
def redis_connects(monkeypatch):
    """How many connections this process opens to Redis (the server's own count would include
    other processes')."""
    import redis.connection

    opened = []
    connect = redis.connection.AbstractConnection.connect

    def counted(connection):
        if connection._sock is None:
            opened.append(connection)
        return connect(connection)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", counted)
    return opened


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def get(path: str, cookie: bytes) -> int:
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"localhost"), (b"cookie", cookie)])
    response = await communicator.get_response(timeout=10)
    await communicator.wait(timeout=10)  # the request finishes: its database connection is closed
    return response["status"]


async def test_pages_served_over_asgi_open_no_cache_connection_each(policy, redis_connects):
    agent = await database_sync_to_async(factories.agent_user)()
    cookie = await database_sync_to_async(session_cookie)(agent)
    assert await get("/console/", cookie) == 200  # reads the cache: time zone, permissions, queue counts
    before = len(redis_connects)

    for _ in range(5):
        assert await get("/console/", cookie) == 200

    assert len(redis_connects) == before
