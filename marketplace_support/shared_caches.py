"""One cache connection for all the requests and sockets of an ASGI process.

Django keeps its cache connections per asyncio context, and under ASGI each request and each
socket runs in a context of its own. So every request opened a new Redis connection (and pool)
for its first cached read, and closed it at the end; and every socket held one for as long as it
stayed open, about 14 KiB of a worker's memory and one Redis client per idle socket. Redis's client
and LocMem are safe to share across threads: every context gets the process's one per alias.
(Under WSGI, each thread keeps its own across requests already.)
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
        for alias in settings.CACHES:  # in this request's or socket's context only
            caches[alias] = _shared_cache(alias)
        return await self.inner(scope, receive, send)


def _shared_cache(alias: str):
    cache = _shared.get(alias)
    if cache is None:
        cache = _shared[alias] = caches.create_connection(alias)
    return cache


@receiver(setting_changed, dispatch_uid="shared_caches.caches_changed")
def _caches_changed(*, setting, **kwargs):
    if setting == "CACHES":
        _shared.clear()
