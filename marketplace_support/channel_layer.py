"""The channel layer on Redis: channels-redis's pub/sub layer, whose sockets hear when Redis fails.

A broadcast is published once and each server process hands it to its own sockets, where the
list-based layer wrote it into every member's queue and each socket popped it back one round trip
at a time (bench/README.md has the chat figures of both).

Pub/sub delivers at most once, to whoever listens at the time. channels-redis's layer logs a broken
connection and subscribes again, so what was published in between is lost without a socket
knowing. Here a break reaches every socket of the process: its next receive raises `LayerFailed`
(a redis ConnectionError), the socket closes with 1013 and its client reconnects asking for
everything after the last id it saw. The layer starts over with a new connection. A socket whose
reader falls `CHANNEL_CAPACITY` frames behind (its client stopped reading) closes the same way,
rather than its frames piling up in the process's memory.

Code outside an event loop (a WSGI request, a management command) publishes with
`group_send_blocking` on connections the process keeps.
"""

import asyncio
import logging
import threading
from contextlib import suppress

import redis
import redis.sentinel
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _close_redis, _consistent_hash, _wrap_close, decode_hosts
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

logger = logging.getLogger(__name__)


# Frames a channel holds for a reader that has not taken them (a socket whose client stopped reading);
# the 100 of Channels' own layers.
CHANNEL_CAPACITY = 100


class LayerFailed(RedisConnectionError):
    """The connection a channel listened on broke: it may have missed messages."""


class FellBehind(LayerFailed):
    """A channel's reader fell more than `CHANNEL_CAPACITY` frames behind: what it missed is dropped,
    and it closes like a socket whose connection broke, so its client asks for it by id."""


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._blocking_shards = None
        self._blocking_shards_lock = threading.Lock()

    def group_send_blocking(self, group: str, message: dict) -> None:
        """`group_send` for code outside an event loop, published on a connection the process keeps.

        `async_to_sync(group_send)` there starts an event loop on a new thread, and the layer opens a
        Redis connection for that loop alone: a thread, a loop and a connection a broadcast."""
        channel = f"{self._kwargs.get('prefix', 'asgi')}__group__{group}"  # as the loop layers name it
        shards = self._blocking_redis()
        shards[_consistent_hash(channel, len(shards))].publish(channel, self.serialize(message))

    def _blocking_redis(self) -> list[redis.Redis]:
        with self._blocking_shards_lock:
            if self._blocking_shards is None:
                self._blocking_shards = [_blocking_client(host) for host in decode_hosts(self._kwargs.get("hosts"))]
            return self._blocking_shards

    def _get_layer(self):
        # channels-redis's own, building the loop layer below (one per event loop).
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
            return layer

    def deserialize(self, message):
        if isinstance(message, LayerFailed):
            raise message
        return super().deserialize(message)


def _blocking_client(host: dict) -> redis.Redis:
    """The thread-safe client for one of the layer's hosts, as channels-redis's `create_pool` reads them.

    It tries once more at once, whichever form the host takes (redis-py tries none more from a URL,
    ten more with backoff from keywords): a broadcast is best effort, and its request must not wait."""
    host = {"retry": Retry(NoBackoff(), 1), **host}
    if "address" in host:
        return redis.Redis.from_url(host.pop("address"), **host)
    if "master_name" in host:
        sentinel = redis.sentinel.Sentinel(host.pop("sentinels"), sentinel_kwargs=host.pop("sentinel_kwargs", None))
        return sentinel.master_for(host.pop("master_name"), **host)
    return redis.Redis(**host)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]

    async def _subscribe_to_channel(self, channel):
        try:
            await super()._subscribe_to_channel(channel)
        except BaseException:
            del self.channels[channel]  # a socket that could not listen leaves no queue behind
            raise

    async def receive(self, channel):
        try:
            return await super().receive(channel)
        except LayerFailed:
            self.channels.pop(channel, None)
            raise

    def deliver(self, channel: str, data: bytes) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            return
        if queue.qsize() >= CHANNEL_CAPACITY:
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(FellBehind(f"{channel} fell {CHANNEL_CAPACITY} frames behind"))
        queue.put_nowait(data)

    def fail_every_channel(self, error: BaseException) -> None:
        """Every channel of this process may have missed messages; no group is subscribed any more."""
        for queue in self.channels.values():
            queue.put_nowait(LayerFailed(f"The channel layer's connection to Redis broke ({error!r})"))
        self.groups.clear()


class _Shard(RedisSingleShardConnection):
    async def publish(self, channel, message):
        try:
            await super().publish(channel, message)
        except RedisConnectionError:
            # A pooled connection from before Redis restarted: the first use finds it closed.
            # Once more on a new one, or the broadcast would be lost to sockets already back.
            await super().publish(channel, message)

    def _receive_message(self, message):
        # channels-redis's own, but each channel's queue is bounded (`_LoopLayer.deliver`).
        if message is None:
            return
        name = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        layer = self.channel_layer
        for channel in (name,) if name in layer.channels else layer.groups.get(name, ()):
            layer.deliver(channel, message["data"])

    async def _do_receiving(self):
        try:
            while True:
                if self._pubsub and self._pubsub.subscribed:
                    self._receive_message(await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1))
                else:
                    await asyncio.sleep(0.1)
        except Exception as error:  # not only Redis's: a receiver that stopped would lose everything after
            logger.warning("The channel layer lost its connection to Redis; closing this process's sockets (%r)", error)
            await self._start_over()
            self.channel_layer.fail_every_channel(error)

    async def _start_over(self):
        async with self._lock:
            self._receive_task = None  # this task, ending; the next subscribe starts another
            self._subscribed_to = set()
            broken, self._redis, self._pubsub = self._redis, None, None
        if broken is not None:
            with suppress(Exception):
                await _close_redis(broken)
