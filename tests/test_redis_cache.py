"""The Redis cache builds its redis-py client once, not once per command."""

import os

import pytest
from django.core.cache import caches

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL"),
]


def test_commands_share_one_client_and_still_reach_redis(monkeypatch):
    import redis

    built = []
    init = redis.Redis.__init__

    def counted(client, *args, **kwargs):
        built.append(client)
        init(client, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counted)
    cache = caches.create_connection("default")

    cache.set("redis-cache-test", "kept", timeout=30)
    for _ in range(10):
        assert cache.get("redis-cache-test") == "kept"
    assert cache.get_many(["redis-cache-test", "redis-cache-missing"]) == {"redis-cache-test": "kept"}
    cache.delete("redis-cache-test")

    assert cache.get("redis-cache-test") is None
    assert len(built) == 1
