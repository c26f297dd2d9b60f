"""Sockets sign in from the session cookie, as pages do, and hold little while they stay open."""

import os

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from disputes import consumers
from tests import factories
from tests.disputes.console.sockets import room, signed_in_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def open_case_tx(policy, buyer, seller):
    return factories.case(buyer=buyer, seller=seller)


def _change_password(user) -> None:
    user.set_password("a new password")
    user.save()


async def test_case_socket_of_a_session_ended_by_a_password_change_is_refused_with_4401(sockets, open_case_tx, buyer):
    client = await database_sync_to_async(signed_in_client)(buyer)
    await database_sync_to_async(_change_password)(buyer)

    socket = await sockets(room(open_case_tx), client=client)

    assert await socket.close_code() == consumers.NOT_SIGNED_IN


async def test_case_socket_with_an_unknown_session_is_refused_with_4401(sockets, open_case_tx):
    client = await database_sync_to_async(signed_in_client)(open_case_tx.buyer)
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"

    socket = await sockets(room(open_case_tx), client=client)

    assert await socket.close_code() == consumers.NOT_SIGNED_IN


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="counts connections to Redis: set REDIS_URL")
async def test_open_sockets_share_the_cache_connection(sockets, open_case_tx):
    """Each socket reads the cache on connect (an agent's permissions); none keeps a Redis
    connection of its own open afterwards, so open sockets cannot exhaust Redis's clients."""
    import redis

    server = redis.Redis.from_url(os.environ["REDIS_URL"])
    ours = str(server.connection_pool.connection_kwargs.get("db", 0))

    def clients() -> int:  # on this test run's database number, not other processes'
        return sum(1 for client in server.client_list() if client["db"] == ours)

    agents = [await database_sync_to_async(factories.agent_user)(username=f"agent{i}") for i in range(6)]
    await sockets(room(open_case_tx), agents[0])  # the channel layer's own connections open first
    before = clients()

    for agent in agents[1:]:
        socket = await sockets(room(open_case_tx), agent)
        await socket.send({"type": "ping"})
        assert await socket.answer() == {"type": "pong"}  # its start is done (the others' presence may come first)

    assert clients() - before <= 1
    server.close()
