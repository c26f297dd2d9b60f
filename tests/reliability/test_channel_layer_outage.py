"""The channel layer when Redis goes away: every channel of the process hears of it, none waits on
in silence for what was published meanwhile, and the layer starts over once Redis is back.

Two layer instances on a private `redis-server` stand for two server processes; the socket's side
of it (a close with 1013, the client catching up) is in test_faults.py.
"""

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from redis.exceptions import RedisError

from bench.outages import RedisServer
from marketplace_support.channel_layer import LayerFailed, PubSubChannelLayer

pytestmark = pytest.mark.redis

TIMEOUT = 10  # seconds for what must happen


async def receive(layer, channel: str):
    return await asyncio.wait_for(layer.receive(channel), TIMEOUT)


def open_channels(layer) -> int:
    return len(layer._get_layer().channels)


def test_a_broken_connection_reaches_every_channel_and_the_layer_starts_over(redis_server_binary):
    with RedisServer(redis_server_binary) as redis:
        config = {"hosts": [{"address": redis.url, "socket_timeout": 5, "socket_connect_timeout": 5}]}

        async def scenario():
            worker, other = PubSubChannelLayer(**config), PubSubChannelLayer(**config)
            try:
                in_room, alone = await worker.new_channel(), await worker.new_channel()
                await worker.group_add("room", in_room)
                await other.group_send("room", {"type": "case.message", "id": 1})
                assert await receive(worker, in_room) == {"type": "case.message", "id": 1}

                redis.kill()
                for channel in (in_room, alone):
                    with pytest.raises(LayerFailed):
                        await receive(worker, channel)
                assert open_channels(worker) == 0
                with pytest.raises(RedisError):  # a socket opening meanwhile is refused at once
                    await worker.new_channel()
                assert open_channels(worker) == 0

                redis.start()
                channel = await worker.new_channel()
                await worker.group_add("room", channel)
                await other.group_send("room", {"type": "case.message", "id": 2})
                return await receive(worker, channel)
            finally:
                await worker.flush()
                await other.flush()

        assert async_to_sync(scenario)() == {"type": "case.message", "id": 2}


def test_a_channel_busy_elsewhere_hears_of_the_break_on_its_next_receive(redis_server_binary):
    """A socket handling a frame is not waiting on the layer when Redis goes; it must not miss it."""
    with RedisServer(redis_server_binary) as redis:
        config = {"hosts": [{"address": redis.url, "socket_timeout": 5, "socket_connect_timeout": 5}]}

        async def scenario():
            worker = PubSubChannelLayer(**config)
            try:
                channel = await worker.new_channel()
                redis.kill()
                await asyncio.sleep(1)  # the break is noticed while no one receives
                with pytest.raises(LayerFailed):
                    await receive(worker, channel)
            finally:
                await worker.flush()

        async_to_sync(scenario)()


def test_a_broadcast_from_outside_an_event_loop_fails_fast_while_redis_is_down_and_reaches_the_room_after(
    redis_server_binary,
):
    """A WSGI request's broadcast is best effort: with Redis down it fails at once (the request logs it
    and answers), and once Redis is back the process's kept connection is replaced, not reused broken."""
    with RedisServer(redis_server_binary) as redis:
        config = {"hosts": [{"address": redis.url, "socket_timeout": 5, "socket_connect_timeout": 5}]}
        web_process = PubSubChannelLayer(**config)
        web_process.group_send_blocking("room", {"type": "case.changed", "id": 0})  # its connection, kept

        redis.kill()
        started = time.monotonic()
        with pytest.raises(RedisError):
            web_process.group_send_blocking("room", {"type": "case.changed", "id": 1})
        assert time.monotonic() - started < 1

        redis.start()

        async def scenario():
            socket_process = PubSubChannelLayer(**config)
            try:
                channel = await socket_process.new_channel()
                await socket_process.group_add("room", channel)
                await asyncio.to_thread(web_process.group_send_blocking, "room", {"type": "case.changed", "id": 2})
                return await receive(socket_process, channel)
            finally:
                await socket_process.flush()

        assert async_to_sync(scenario)() == {"type": "case.changed", "id": 2}
