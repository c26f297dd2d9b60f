"""Django's Redis cache, keeping one redis-py client per server instead of one per command.

Django's client builds a new `redis.Redis` for every read and write, and building one sets up
its ~170 response callbacks: about 0.1 ms a command, several times a page. A client is only a
front to its connection pool and is safe to share across threads, so one per pool is kept.

Counting (`incr`, `decr`: the rate limits, on every message and upload) takes one round trip, not
Django's two (EXISTS, then INCRBY): a script raises the counter only if it exists.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

_INCR_IF_EXISTS = """
if redis.call("EXISTS", KEYS[1]) == 1 then return redis.call("INCRBY", KEYS[1], ARGV[1]) end
return false
"""


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._incr_if_exists = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        script = self._incr_if_exists.get(client)
        if script is None:
            script = self._incr_if_exists[client] = client.register_script(_INCR_IF_EXISTS)
        value = script(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusingClient
