"""Sockets as a browser tab opens them, and the people and cases the socket tests share.

Every socket signs in with a real session cookie, as a browser would. To assert that something
did NOT arrive, without sleeping, a test sends a sentinel that travels the same way and must be
the next frame: a `ping` (answered after every frame the socket sends in reply to what came
before it: resyncs, errors), or a probe through the channel layer to that person's sockets
(delivered after every broadcast queued before it: messages, notes, changes). The fixtures
(`sockets`, `desk`, `open_case_tx`) reach the console's tests through its conftest.py.
"""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from disputes import realtime
from disputes.models import Case, Message
from marketplace_support.asgi import application
from tests import factories
from tests.disputes.case_states import bring_to

User = get_user_model()

TIMEOUT = 3  # seconds for a frame that must arrive
BROADCASTS = {"message", "case.changed", "presence", "queue.changed"}  # what no client frame answers
ORIGIN = b"http://localhost"


# Connecting


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class Socket:
    """A browser tab's socket: a communicator plus the page's session."""

    def __init__(
        self, path: str, *, user=None, client: Client | None = None, origin: bytes | None = ORIGIN, app=application
    ):
        headers = []
        if origin is not None:
            headers.append((b"origin", origin))
        if client is not None:
            headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
        self.user_id = getattr(user, "pk", None)
        self.ws = WebsocketCommunicator(app, path, headers=headers)
        self.early: list[dict] = []  # broadcasts read while waiting for an answer, for `receive`

    async def connect(self):
        return await self.ws.connect(timeout=TIMEOUT)

    async def send(self, frame: dict) -> None:
        await self.ws.send_json_to(frame)

    async def send_text(self, text: str) -> None:
        await self.ws.send_to(text_data=text)

    async def receive(self) -> dict:
        if self.early:
            return self.early.pop(0)
        return await self.ws.receive_json_from(timeout=TIMEOUT)

    async def answer(self) -> dict:
        """The next answer to what this socket sent (its "sent", an error, a pong). A socket goes on
        delivering its room while its own message is stored, so that message's broadcast may come
        before its "sent": broadcasts read meanwhile are kept, in order, for `receive`."""
        while True:
            frame = await self.ws.receive_json_from(timeout=TIMEOUT)
            if frame["type"] not in BROADCASTS:
                return frame
            self.early.append(frame)

    async def receive_many(self, count: int) -> list[dict]:
        return [await self.receive() for _ in range(count)]

    async def close_code(self) -> int:
        """The code the server closed this socket with (after accepting it)."""
        output = await self.ws.receive_output(timeout=TIMEOUT)
        assert output["type"] == "websocket.close", f"expected a close, got {output!r}"
        return output.get("code", 1000)

    async def assert_no_more_replies(self) -> None:
        """The socket sent nothing more in answer to the frames before now."""
        await self.send({"type": "ping"})
        assert await self.receive() == {"type": "pong"}

    async def assert_nothing_broadcast(self) -> None:
        """No broadcast reached this case socket before now: a probe sent through the channel layer
        after them (to this person's sockets, as the presence handler renders it) comes first."""
        probe = {"type": "case.presence", "viewers": ["probe"]}
        await get_channel_layer().group_send(realtime.user_group(self.user_id), probe)
        assert await self.receive() == {"type": "presence", "viewers": ["probe"]}

    async def post(self, body: str, **extra) -> dict:
        """Send a message; return its answer (its acknowledgement, or an error)."""
        await self.send({"type": "message.send", "body": body, **extra})
        return await self.answer()

    async def disconnect(self) -> None:
        await self.ws.disconnect(timeout=TIMEOUT)


@pytest.fixture
async def sockets():
    """Open sockets as the people of a test; every one is closed at the end."""
    opened: list[Socket] = []

    async def open_socket(
        path: str, user=None, *, client: Client | None = None, origin=ORIGIN, expect_accept=True, app=application
    ):
        if user is not None and client is None:
            client = await database_sync_to_async(signed_in_client)(user)
        socket = Socket(path, user=user, client=client, origin=origin, app=app)
        opened.append(socket)
        connected, _ = await socket.connect()
        if expect_accept:
            assert connected, f"{path} refused {user}"
        socket.accepted = connected
        return socket

    yield open_socket
    errors = []
    for socket in opened:
        try:
            await socket.disconnect()
        except (asyncio.CancelledError, TimeoutError):
            pass  # a wait that timed out in the test cancelled it; the test has failed already
        except Exception as exc:  # noqa: BLE001 - close the other sockets first, then report
            errors.append(exc)
    if errors:
        raise errors[0]


def room(case: Case, after: int | None = None) -> str:
    path = f"/ws/cases/{case.reference}/"
    return f"{path}?after={after}" if after is not None else path


QUEUE = "/ws/console/queue/"


# People and cases


@pytest.fixture
def desk(policy, buyer, seller):
    """A case in mediation with its agent (Ana), and another agent (Ben) who may open it too."""
    agent = factories.agent_user(username="ana", first_name="Ana", last_name="Lopez")
    colleague = factories.agent_user(username="ben", first_name="Ben", last_name="Okafor")
    case = bring_to(Case.State.IN_MEDIATION, factories.case(buyer=buyer, seller=seller), agent=agent)
    return {"case": case, "buyer": buyer, "seller": seller, "agent": agent, "colleague": colleague}


@pytest.fixture
def open_case_tx(policy, buyer, seller):
    return factories.case(buyer=buyer, seller=seller)


def stored(message_id: int) -> Message | None:
    return Message.objects.filter(pk=message_id).first()


def messages_on(case: Case) -> list[tuple[str, bool]]:
    return list(Message.objects.filter(case=case).order_by("pk").values_list("body", "is_internal"))


