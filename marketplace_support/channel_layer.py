"""The channel layer on Redis: channels-redis's pub/sub layer, whose sockets hear when Redis fails.

A broadcast is published once and each server process hands it to its own sockets, where the
list-based layer wrote it into every member's queue and each socket popped it back one round trip
at a time (bench/README.md has the chat figures of both).

Pub/sub delivers at most once, to whoever listens at the time. channels-redis's layer logs a broken
connection and subscribes again, so what was published in between is lost without a socket
knowing. Here a break reaches every socket of the process: its next receive raises `LayerFailed`
(a redis ConnectionError), the socket closes with 1013 and its client reconnects asking for
everything after the last id it saw. The layer starts over with a new connection.
"""

import asyncio
import logging
from contextlib import suppress

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _close_redis, _wrap_close
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)


class LayerFailed(RedisConnectionError):
    """The connection a channel listened on broke: it may have missed messages."""


class PubSubChannelLayer(RedisPubSubChannelLayer):
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
