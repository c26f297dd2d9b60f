"""The desk's ASGI application plus the baselines the chat benchmark compares with.

    /ws/bench/echo/<room>/       sends every text frame straight back (no channel layer)
    /ws/bench/broadcast/<room>/  group_sends every text frame to the room on the channel layer,
                                 and forwards what the room sends: no sign-in, no database

Every socket's handshake answer names the worker process that took it (`x-bench-process`).
Everything else is `marketplace_support.asgi:application` unchanged, except the per-socket
message allowance of `CaseConsumer` (5 per 10 s for people), which BENCH_SOCKET_MESSAGES can
raise so a socket can carry the benchmark's steady rate. Served by `Server(app="bench.asgi:application")`.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from marketplace_support.asgi import application as desk_application  # noqa: E402 (sets Django up)

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from disputes import consumers  # noqa: E402

if os.environ.get("BENCH_SOCKET_MESSAGES"):
    consumers.MESSAGES_PER_WINDOW = int(os.environ["BENCH_SOCKET_MESSAGES"])


PROCESS = str(os.getpid()).encode()


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data)


class BroadcastConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = f"bench-{self.scope['url_route']['kwargs']['room']}"
        await self.channel_layer.group_add(self.room, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.room, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send(self.room, {"type": "room.frame", "text": text_data})

    async def room_frame(self, event):
        await self.send(text_data=event["text"])


baselines = URLRouter(
    [
        path("ws/bench/echo/<str:room>/", EchoConsumer.as_asgi()),
        path("ws/bench/broadcast/<str:room>/", BroadcastConsumer.as_asgi()),
    ]
)


async def websocket(scope, receive, send):
    async def send_naming_process(message):
        # Which worker took the socket: uvicorn's workers share one listening socket, and the
        # kernel gives a connection to whichever accepts first, so the split varies run to run.
        if message["type"] == "websocket.accept":
            message = {**message, "headers": [*message.get("headers", []), (b"x-bench-process", PROCESS)]}
        await send(message)

    if scope["path"].startswith("/ws/bench/"):
        return await baselines(scope, receive, send_naming_process)
    return await desk_application(scope, receive, send_naming_process)


application = ProtocolTypeRouter({"http": desk_application, "websocket": websocket})
