"""The Redis cache builds its redis-py client once, not once per command, and counts in one round trip."""

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


def test_counting_raises_an_existing_counter_in_one_round_trip_and_refuses_a_missing_one(monkeypatch):
    cache = caches.create_connection("default")
    cache.delete("redis-cache-counter")
    with pytest.raises(ValueError):
        cache.incr("redis-cache-counter")
    assert cache.get("redis-cache-counter") is None  # not created by the refused count
    cache.set("redis-cache-counter", 5, timeout=30)
    assert cache.incr("redis-cache-counter", 0) == 5  # first use: the connection and the script are set up
    sent = []
    connection_class = cache._cache.get_client(None, write=True).connection_pool.connection_class
    send = connection_class.send_packed_command

    def counted(connection, command, *args, **kwargs):
        sent.append(command)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(connection_class, "send_packed_command", counted)

    assert cache.incr("redis-cache-counter", 3) == 8
    assert cache.decr("redis-cache-counter", 2) == 6

    assert len(sent) == 2
    assert cache.get("redis-cache-counter") == 6
    cache.delete("redis-cache-counter")
