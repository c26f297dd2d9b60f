import asyncio
import gc
import os
import socket

from django.core.asgi import get_asgi_application


def _small_frames_leave_at_once() -> None:
    """uvicorn's workers accept on a socket it made without naming TCP (uvicorn issue #3149), and
    asyncio turns Nagle's algorithm off only on sockets that name it. A frame written right after
    another (a message's "sent", then its broadcast) then waited for the client's delayed ACK:
    ~40 ms on some sockets, the chat's p99. Turned off on every TCP socket asyncio accepts."""

    def set_nodelay(sock: socket.socket) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    asyncio.base_events._set_nodelay = set_nodelay


_small_frames_leave_at_once()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace_support.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from marketplace_support.routing import websocket_urlpatterns  # noqa: E402
from marketplace_support.shared_caches import SharedCachesMiddleware  # noqa: E402
from marketplace_support.socket_sessions import SocketAuthMiddlewareStack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": SharedCachesMiddleware(django_asgi_app),
        "websocket": SharedCachesMiddleware(
            AllowedHostsOriginValidator(SocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Everything loaded so far lives as long as the process: set aside, a full collection no longer
# walks it (it paused a busy chat worker ~90 ms, ~25 ms since).
gc.freeze()
