"""Real round trips over the configured channel layer.

On the defaults this is the in-memory layer; with REDIS_URL set (CI's second run) the same
tests go through Redis pub/sub, and the `redis` tests add what only a shared layer can do: two
separate layer instances (two ASGI workers) reaching each other.
"""

import asyncio
import os
import uuid

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from disputes.realtime import send_to_group
from marketplace_support.channel_layer import CHANNEL_CAPACITY, FellBehind, PubSubChannelLayer

ON_REDIS = settings.CHANNEL_LAYERS["default"]["BACKEND"] == "marketplace_support.channel_layer.PubSubChannelLayer"
TIMEOUT = 5  # seconds to wait for a message that must arrive
QUIET = 0.3  # seconds to listen for a message that must not arrive

needs_redis = pytest.mark.skipif(not ON_REDIS, reason="needs the Redis channel layer (set REDIS_URL)")


def unique(name: str) -> str:
    return f"test-{name}-{uuid.uuid4().hex}"


async def receive(layer, channel: str) -> dict:
    return await asyncio.wait_for(layer.receive(channel), TIMEOUT)


async def nothing_for(layer, channel: str) -> bool:
    try:
        message = await asyncio.wait_for(layer.receive(channel), QUIET)
    except asyncio.TimeoutError:
        return True
    pytest.fail(f"{channel} got a message it should not have: {message!r}")


def test_configured_layer_matches_the_environment():
    layer = get_channel_layer()

    if os.environ.get("REDIS_URL"):
        assert isinstance(layer, PubSubChannelLayer)
    else:
        assert isinstance(layer, InMemoryChannelLayer)


def test_send_then_receive_on_a_channel():
    layer = get_channel_layer()

    async def scenario():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "case.message", "id": 7, "body": "Where is my parcel?"})
        await layer.send(channel, {"type": "case.message", "id": 8, "body": "Tracking says delivered."})
        first = await receive(layer, channel)
        second = await receive(layer, channel)
        return first, second

    first, second = async_to_sync(scenario)()

    assert first == {"type": "case.message", "id": 7, "body": "Where is my parcel?"}
    assert second["id"] == 8  # in order


def test_group_send_reaches_every_member_and_only_members():
    layer = get_channel_layer()
    group = unique("case-room")

    async def scenario():
        buyer, seller, outsider = [await layer.new_channel() for _ in range(3)]
        await layer.group_add(group, buyer)
        await layer.group_add(group, seller)
        try:
            await layer.group_send(group, {"type": "case.event", "name": "offer_made"})
            got = [await receive(layer, buyer), await receive(layer, seller)]
            assert await nothing_for(layer, outsider)

            await layer.group_discard(group, seller)
            await layer.group_send(group, {"type": "case.event", "name": "escalated"})
            got.append(await receive(layer, buyer))
            assert await nothing_for(layer, seller)
            return got
        finally:
            await layer.group_discard(group, buyer)
            await layer.group_discard(group, seller)

    got = async_to_sync(scenario)()

    assert [m["name"] for m in got] == ["offer_made", "offer_made", "escalated"]


@pytest.mark.redis
@needs_redis
def test_group_send_from_one_worker_reaches_a_member_on_another():
    """Two layer instances stand for two ASGI processes sharing one Redis."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    group = unique("agents-queue")

    async def scenario():
        worker_a = PubSubChannelLayer(**config)
        worker_b = PubSubChannelLayer(**config)
        try:
            channel = await worker_a.new_channel()
            await worker_a.group_add(group, channel)
            await worker_b.group_send(group, {"type": "queue.changed", "case": "MS-00001"})
            message = await receive(worker_a, channel)
            await worker_a.group_discard(group, channel)
            return message
        finally:
            await worker_a.flush()
            await worker_b.flush()

    message = async_to_sync(scenario)()

    assert message == {"type": "queue.changed", "case": "MS-00001"}


@pytest.mark.redis
@needs_redis
def test_send_from_one_worker_reaches_a_socket_of_another():
    """One socket's channel, named by the process that holds it, reached from another process."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]

    async def scenario():
        sender = PubSubChannelLayer(**config)
        receiver = PubSubChannelLayer(**config)
        try:
            channel = await receiver.new_channel()
            await sender.send(channel, {"type": "session.ended"})
            return await receive(receiver, channel)
        finally:
            await sender.flush()
            await receiver.flush()

    assert async_to_sync(scenario)() == {"type": "session.ended"}


@pytest.mark.redis
@needs_redis
def test_a_burst_of_sockets_joining_one_process_at_once_is_not_refused():
    """Hundreds of sockets opening on one worker at once (a reconnect after a deploy) each join
    their groups: the layer's connections to Redis must not run out and close them."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    group = unique("room")

    async def scenario():
        worker = PubSubChannelLayer(**config)
        try:
            channels = [await worker.new_channel() for _ in range(300)]
            await asyncio.gather(*(worker.group_add(group, channel) for channel in channels))
            await worker.group_send(group, {"type": "case.message", "id": 1})
            received = await asyncio.gather(*(receive(worker, channel) for channel in channels))
            await asyncio.gather(*(worker.group_discard(group, channel) for channel in channels))
            return received
        finally:
            await worker.flush()

    received = async_to_sync(scenario)()

    assert received == [{"type": "case.message", "id": 1}] * 300


@pytest.mark.redis
@needs_redis
def test_broadcasts_from_outside_an_event_loop_reach_the_room_on_one_kept_connection():
    """A WSGI request or a command broadcasts from a thread with no event loop: every broadcast
    must reach the sockets of another process, without a new Redis connection each time."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    group = unique("case-room")
    stats = redis.Redis.from_url(os.environ["REDIS_URL"])

    async def scenario():
        worker = PubSubChannelLayer(**config)
        try:
            channel = await worker.new_channel()
            await worker.group_add(group, channel)
            await asyncio.to_thread(send_to_group, group, {"type": "case.changed", "state": "escalated"})  # may connect
            first = await receive(worker, channel)
            connections_before = stats.info("stats")["total_connections_received"]
            for number in range(20):
                await asyncio.to_thread(send_to_group, group, {"type": "case.changed", "number": number})
            received = [await receive(worker, channel) for _ in range(20)]
            connections_after = stats.info("stats")["total_connections_received"]
            return first, received, connections_after - connections_before
        finally:
            await worker.flush()

    first, received, new_connections = async_to_sync(scenario)()

    assert first == {"type": "case.changed", "state": "escalated"}
    assert [message["number"] for message in received] == list(range(20))
    assert new_connections <= 2  # not one a broadcast


@pytest.mark.redis
@needs_redis
def test_a_channel_whose_reader_falls_far_behind_holds_no_more_and_is_told_to_catch_up():
    """A socket whose client stopped reading must not hold every frame since in memory: past the
    capacity its channel drops them and its next receive fails, so the socket closes and its client
    asks for what it missed by id. A channel that keeps up is untouched."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    room, probe_group = unique("case-room"), unique("probe")

    async def scenario():
        worker, other = PubSubChannelLayer(**config), PubSubChannelLayer(**config)
        try:
            stalled, probe = await worker.new_channel(), await worker.new_channel()
            await worker.group_add(room, stalled)
            await worker.group_add(probe_group, probe)
            for number in range(CHANNEL_CAPACITY + 50):
                await other.group_send(room, {"type": "case.message", "id": number})
            await other.group_send(probe_group, {"type": "probe"})  # arrives after every frame above
            assert await receive(worker, probe) == {"type": "probe"}
            held = worker._get_layer().channels[stalled].qsize()
            with pytest.raises(FellBehind):
                await receive(worker, stalled)
            return held, stalled in worker._get_layer().channels
        finally:
            await worker.flush()
            await other.flush()

    held, still_open = async_to_sync(scenario)()

    assert held <= CHANNEL_CAPACITY
    assert not still_open
