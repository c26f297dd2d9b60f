"""One cache connection for all the sockets of a process, not one per open socket.

Django keeps its cache connections per asyncio context, and each socket is a task with a context
of its own that lives as long as the socket: the first cached read a socket made (a permission
check on connect) left it holding its own Redis connection pool and an open connection to Redis,
about 14 KiB of a worker's memory and one Redis client per idle socket. Redis's client and
LocMem are safe to share across threads; every socket uses the same one per alias.
"""

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver

_shared = {}


class SharedCachesMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        for alias in settings.CACHES:  # in this socket's context only
            caches[alias] = _shared_cache(alias)
        return await self.inner(scope, receive, send)


def _shared_cache(alias: str):
    cache = _shared.get(alias)
    if cache is None:
        cache = _shared[alias] = caches.create_connection(alias)
    return cache


@receiver(setting_changed, dispatch_uid="socket_caches.caches_changed")
def _caches_changed(*, setting, **kwargs):
    if setting == "CACHES":
        _shared.clear()
