"""Facts nearly every request reads, kept in Django's cache between requests.

Each fact belongs to a topic ("permissions", "queue", "time_zone:<user id>"). A topic has a version
in the cache, and each cached value is stored with the version it was computed under; whatever
changes a topic's facts calls `forget(topic)`, which gives the topic a new version, so every value
computed before is ignored from then on. A value is read with its
topic's version in one round trip.

The cache is a speed-up, never the record: when it is unavailable, values are computed each time.

A request that will ask for several facts (a signed-in person's permissions, zone, unread count)
can read them all in one round trip first: `reading_ahead` holds them for that request's
`remembered` calls.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")
logger = logging.getLogger(__name__)


def remembered(topic: str, key: str, compute: Callable[[], T], *, seconds: int) -> T:
    """`compute()`, or what it gave under the topic's current version at most `seconds` ago."""
    version_key, value_key = _version_key(topic), _value_key(topic, key)
    held = _held.get()
    if held is not None and version_key in held and value_key in held:
        found = held
    else:
        try:
            found = cache.get_many([version_key, value_key])
        except Exception:
            _cache_down("computing %s afresh", topic)
            return compute()
    version, stored = found.get(version_key), found.get(value_key)
    if version is not None and stored is not None and stored[0] == version:
        return stored[1]
    # The version is read before computing: a change committed meanwhile gives the topic a newer
    # version, under which what is stored here is never served.
    value = compute()
    try:
        if version is None:
            version = _new_version()
            if not cache.add(version_key, version, timeout=None):
                return value  # another process has just started the topic: keep nothing this time
        cache.set(value_key, (version, value), timeout=seconds)
        if found is held:  # asked again in this request: as kept now, not as read ahead
            held.update({version_key: version, value_key: (version, value)})
    except Exception:
        _cache_down("%s not kept", topic)
    return value


@contextmanager
def reading_ahead(facts: Iterable[tuple[str, str]]) -> Iterator[None]:
    """Read these (topic, key) facts and their topics' versions in one round trip, and let
    `remembered` take them from there until the block ends (one request)."""
    keys = {key for topic, fact in facts for key in (_version_key(topic), _value_key(topic, fact))}
    try:
        found = cache.get_many(keys)
    except Exception:
        _cache_down("%s not read ahead", ", ".join(sorted(keys)))
        found = None
    # What the cache did not hold is held as missing, so it is not asked for again.
    token = _held.set(None if found is None else {key: found.get(key) for key in keys})
    try:
        yield
    finally:
        _held.reset(token)


def forget(topic: str) -> None:
    """What `topic` caches changed: nothing computed before is served again.

    Renewed now, for this connection's next read, and again once the transaction commits, so a
    value another process computed from the rows as they were before the commit is not kept."""
    held = _held.get()
    if held is not None:
        held.pop(_version_key(topic), None)  # read afresh from here on, not as read ahead
    _renew(topic)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _renew(topic))


def _renew(topic: str) -> None:
    try:
        cache.set(_version_key(topic), _new_version(), timeout=None)
    except Exception:  # values already cached expire on their own
        _cache_down("could not renew %s", topic)


def _cache_down(what: str, topic: str) -> None:
    """Log the outage once a minute at most: every request falls back while it lasts."""
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= WARN_EVERY_SECONDS:
        _warned_at = now
        logger.warning("Cache unavailable: " + what + " (further failures for a minute logged at debug)", topic,
                       exc_info=True)  # fmt: skip
    else:
        logger.debug("Cache unavailable: " + what, topic)


WARN_EVERY_SECONDS = 60
_warned_at = float("-inf")


def _version_key(topic: str) -> str:
    return f"cached-version:{topic}"


def _value_key(topic: str, key: str) -> str:
    # Any text may make a key: hashed, it suits every cache backend (memcached refuses spaces).
    return f"cached:{topic}:{hashlib.blake2b(key.encode()).hexdigest()}"


_held: ContextVar[dict | None] = ContextVar("cached_read_ahead", default=None)


def _new_version() -> int:
    # Never an earlier one again, even after the cache lost the key.
    return time.time_ns()
