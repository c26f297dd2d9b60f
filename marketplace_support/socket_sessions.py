"""The sign-in stack for sockets: Channels' `AuthMiddlewareStack`, less its check on every frame.

Channels' session middleware wraps `send` to save a changed session on an HTTP response, and so
looks at the session on every frame a socket sends, though a socket sends no HTTP response and
never saves it: under chat load that check was a third of the cost of delivering a message to a
socket (py-spy, bench/chat.py). Here the session is read once, at the handshake, as before; the
frames go out as they are. Signing in and out happens on pages, which save their sessions there.
"""

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, InstanceSessionWrapper, SessionMiddleware


class SocketSessionMiddleware(SessionMiddleware):
    async def __call__(self, scope, receive, send):
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, send)


def SocketAuthMiddlewareStack(inner):  # noqa: N802 - named as Channels' AuthMiddlewareStack
    return CookieMiddleware(SocketSessionMiddleware(AuthMiddleware(inner)))
