"""Two real ASGI server processes (daphne) sharing the Redis channel layer and the database.

A browser connected to one process must hear what was said through the other: this is what
running several workers behind a load balancer relies on. The servers open the test database
pytest-django created (so it must be one another process can reach: PostgreSQL), and the data
they read is committed first (`transaction=True`).
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from websockets.asyncio.client import connect as ws_connect

from disputes.models import Case, Message
from tests import factories
from tests.disputes.case_states import bring_to
from tests.live_servers import NEEDS_POSTGRES, NEEDS_REDIS, database_url_for_servers, session_cookie

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    NEEDS_REDIS,
    NEEDS_POSTGRES,
    pytest.mark.django_db(transaction=True),
]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SERVER_START_TIMEOUT = 30  # seconds for a daphne process to listen
TIMEOUT = 5  # seconds for a frame that must arrive
ORIGIN = "http://localhost"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `daphne` process on a port of its own; its output goes to a file shown on failure."""

    def __init__(self, name: str):
        self.name = name
        self.port = free_port()
        # Open for the server's whole life; closed and removed in `stop`.
        self.log = tempfile.NamedTemporaryFile(prefix=f"daphne-{name}-", suffix=".log", delete=False)  # noqa: SIM115
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url_for_servers(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "PYTHONUNBUFFERED": "1",
        }
        daphne = Path(sys.executable).with_name("daphne")
        self.process = subprocess.Popen(
            [str(daphne), "-b", "127.0.0.1", "-p", str(self.port), "marketplace_support.asgi:application"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server {self.name} exited with {self.process.returncode}:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)  # bounded: the loop ends at the deadline
        pytest.fail(
            f"server {self.name} did not listen on {self.port} within {SERVER_START_TIMEOUT}s:\n{self.output()}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        os.unlink(self.log.name)

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


@pytest.fixture
def servers(transactional_db):
    """Two ASGI processes; stopped before the test database is flushed."""
    started = []
    try:
        for name in ("a", "b"):
            started.append(Server(name))
        for server in started:
            server.wait_until_listening()
        yield started
    finally:
        for server in started:
            print(f"--- server {server.name} on {server.port} ---\n{server.output()}")  # shown if the test failed
            server.stop()


async def open_socket(server: Server, path: str, user=None):
    headers = {"Cookie": await database_sync_to_async(session_cookie)(user)} if user is not None else {}
    return await ws_connect(
        server.url(path), origin=ORIGIN, additional_headers=headers, proxy=None, open_timeout=TIMEOUT
    )


async def receive(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def assert_answers_ping(ws) -> None:
    """The socket is open and served: the server answers a `ping`."""
    await ws.send('{"type": "ping"}')
    assert await receive(ws) == {"type": "pong"}


@pytest.fixture
def case_in_mediation(policy, buyer, seller, agent):
    """A case in mediation, with its buyer and seller loaded (no lazy loads in async code)."""
    case = bring_to(Case.State.IN_MEDIATION, factories.case(buyer=buyer, seller=seller), agent=agent)
    return Case.objects.select_related("buyer", "seller").get(pk=case.pk)


def test_redis_layer_is_what_the_servers_share():
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "marketplace_support.channel_layer.PubSubChannelLayer"


async def test_message_sent_through_one_server_reaches_a_client_of_the_other(servers, case_in_mediation):
    server_a, server_b = servers
    case = case_in_mediation
    room = f"/ws/cases/{case.reference}/"
    buyer = await open_socket(server_a, room, case.buyer)
    seller = await open_socket(server_b, room, case.seller)
    try:
        await buyer.send('{"type": "message.send", "body": "Sent through server A.", "client_id": "c1"}')
        # Its "sent" and its own copy from the room, in either order: the socket goes on
        # delivering the room while its message is stored.
        frames = {frame["type"]: frame for frame in [await receive(buyer), await receive(buyer)]}
        ack, own = frames["sent"], frames["message"]
        on_b = await receive(seller)

        assert ack["type"] == "sent" and ack["client_id"] == "c1"
        assert on_b["type"] == "message" and on_b["id"] == ack["id"]
        assert (on_b["body"], on_b["side"]) == ("Sent through server A.", "buyer")
        row = await database_sync_to_async(Message.objects.get)(pk=on_b["id"])
        assert (row.case_id, row.author_id, row.body) == (case.pk, case.buyer_id, "Sent through server A.")

        assert own["id"] == ack["id"]
        await seller.send('{"type": "message.send", "body": "And back through B."}')
        assert (await receive(buyer))["body"] == "And back through B."  # the other way round
    finally:
        await buyer.close()
        await seller.close()


async def test_internal_note_through_one_server_reaches_agents_on_the_other_and_no_party(
    servers, case_in_mediation, agent
):
    server_a, server_b = servers
    case = case_in_mediation
    room = f"/ws/cases/{case.reference}/"
    colleague = await database_sync_to_async(factories.agent_user)(username="colleague")
    buyer = await open_socket(server_a, room, case.buyer)
    watching = await open_socket(server_a, room, colleague)
    writing = await open_socket(server_b, room, agent)
    try:
        assert (await receive(watching))["type"] == "presence"  # itself
        assert (await receive(watching))["type"] == "presence"  # the agent on server B arrives
        assert (await receive(writing))["type"] == "presence"

        await writing.send('{"type": "message.send", "body": "Seller is a repeat case.", "internal": true}')
        ack = await receive(writing)
        note = await receive(watching)

        assert note["id"] == ack["id"] and note["internal"] is True
        assert (await receive(writing))["id"] == ack["id"]  # the writer's own copy
        await writing.send('{"type": "message.send", "body": "We are on it."}')
        public = await receive(writing)
        first_for_buyer = await receive(buyer)  # the note, had it leaked, would have come first
        assert (first_for_buyer["id"], first_for_buyer["internal"]) == (public["id"], False)
    finally:
        for ws in (buyer, watching, writing):
            await ws.close()


async def test_refusal_close_code_reaches_a_real_client(servers, case_in_mediation):
    """Over a real server a close before the handshake would be an HTTP 403 and lose the code."""
    server_a, _ = servers
    anonymous = await open_socket(server_a, f"/ws/cases/{case_in_mediation.reference}/")
    try:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(anonymous.recv(), TIMEOUT)
        assert anonymous.close_code == 4401
    finally:
        await anonymous.close()


async def test_signing_out_in_this_process_closes_the_socket_on_a_server(servers, case_in_mediation):
    server_a, _ = servers
    case = case_in_mediation
    client = await database_sync_to_async(Client)()
    await database_sync_to_async(client.force_login)(case.buyer)
    buyer = await ws_connect(
        server_a.url(f"/ws/cases/{case.reference}/"),
        origin=ORIGIN,
        additional_headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
        proxy=None,
        open_timeout=TIMEOUT,
    )
    try:
        await assert_answers_ping(buyer)

        await database_sync_to_async(client.post)("/accounts/logout/")

        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(buyer.recv(), TIMEOUT)
        assert buyer.close_code == 4000
    finally:
        await buyer.close()
