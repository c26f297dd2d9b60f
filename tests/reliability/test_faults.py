"""Faults under two real ASGI workers: Redis going away during a chat, PostgreSQL cut mid-load.

Redis: the server runs on a private `redis-server` that the test kills (SIGKILL) and starts again
on the same port. While it is gone, pages and the API still answer and messages posted over HTTP
are stored; sockets close (no hang); once it is back, clients reconnect with `?after=<last id>`
and get exactly what they missed.

PostgreSQL: the server reaches the database through a TCP proxy the test cuts (every connection
dropped, new ones refused) and restores, under the load of `bench/load.py`. Requests in flight
fail with an error answer, nothing half-written is left, and the service comes back by itself.
"""

import asyncio
import json
import threading
import time
import uuid

import httpx
import pytest
from django.db import connection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from bench.harness import Server
from bench.load import SERVER_ENV, check, print_report, seed, simulate
from bench.outages import RedisServer, TcpProxy
from disputes.models import Case, Message
from tests import factories
from tests.reliability.conftest import CSRF_SECRET, NEEDS_POSTGRES, database_url_for_servers, session_headers

pytestmark = [pytest.mark.postgres, NEEDS_POSTGRES, pytest.mark.django_db(transaction=True)]

FRAME_TIMEOUT = 10  # seconds for a frame that must arrive


class Chat:
    """One person's socket to a case room: every message id received, reconnecting with ?after=."""

    def __init__(self, server: Server, reference: str, headers: dict[str, str]):
        self.server = server
        self.reference = reference
        self.headers = headers
        self.received: list[int] = []
        self.bodies: dict[int, str] = {}
        self.socket = None
        self.close_codes: list[int | None] = []

    @property
    def last_seen(self) -> int:
        return max(self.received, default=0)

    async def open(self):
        url = f"{self.server.ws_url}/ws/cases/{self.reference}/?after={self.last_seen}"
        self.socket = await ws_connect(url, additional_headers=self.headers, origin=self.server.url, open_timeout=10)
        return self.socket

    async def next_frame(self, timeout=FRAME_TIMEOUT) -> dict:
        frame = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
        if frame["type"] == "message":
            self.received.append(frame["id"])
            self.bodies[frame["id"]] = frame["body"]
        return frame

    async def messages_until(self, body: str) -> None:
        while body not in self.bodies.values():
            await self.next_frame()

    async def closed(self, timeout: float) -> bool:
        """Read until the server closes the socket; False if it stays open for `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.next_frame(timeout=timeout)
        except ConnectionClosed as closed:
            self.close_codes.append(closed.rcvd.code if closed.rcvd else None)
            return True
        except TimeoutError:
            return False


def page_statuses(server: Server, case: Case, buyer_headers: dict, agent_headers: dict) -> dict[str, int]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return {
            "case page": client.get(f"/cases/{case.reference}/", headers=buyer_headers).status_code,
            "case list": client.get("/cases/", headers=buyer_headers).status_code,
            "console": client.get("/console/", headers=agent_headers).status_code,
            "workspace": client.get(f"/console/cases/{case.reference}/", headers=agent_headers).status_code,
        }


def post_message(server: Server, case: Case, headers: dict, body: str, *, form: bool = False) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        if form:  # the case page's form
            data = {"csrfmiddlewaretoken": CSRF_SECRET, "submission": str(uuid.uuid4()), "body": body}
            return client.post(f"/cases/{case.reference}/messages/", data=data, headers=headers)
        return client.post(f"/api/v1/cases/{case.reference}/messages/", json={"body": body}, headers=headers)


def test_redis_outage_during_chat_loses_nothing_and_the_chat_catches_up(redis_server_binary):
    factories.dispute_policy()
    buyer = factories.UserFactory(username="fault_buyer")
    seller = factories.UserFactory(username="fault_seller")
    agent = factories.agent_user(username="fault_agent")
    case = factories.case(order_=factories.order(buyer=buyer, seller=seller))
    buyer_headers, seller_headers, agent_headers = (session_headers(user) for user in (buyer, seller, agent))
    api_buyer = {**buyer_headers, "X-CSRFToken": CSRF_SECRET}

    with (
        RedisServer(redis_server_binary) as redis,
        Server("asgi", workers=2, database_url=database_url_for_servers(), redis_url=redis.url, env=SERVER_ENV) as server,
    ):

        async def chat():
            buyer_chat = Chat(server, case.reference, buyer_headers)
            seller_chat = Chat(server, case.reference, seller_headers)
            chats = (buyer_chat, seller_chat)
            for each in chats:
                await each.open()
            # Idle for longer than the channel layer's blocking read (5 s): the sockets stay open.
            await asyncio.sleep(7)
            for each in chats:
                await each.socket.send(json.dumps({"type": "ping"}))
                assert (await each.next_frame())["type"] == "pong"

            before = await asyncio.to_thread(post_message, server, case, api_buyer, "Before the outage")
            assert before.status_code == 201, before.text
            for each in chats:
                await each.messages_until("Before the outage")

            redis.kill()
            # The sockets end (the channel layer is gone), within the blocking read's time.
            for each in chats:
                assert await each.closed(timeout=20), "a socket stayed open on a dead channel layer"

            during = []
            for number in range(3):
                body = f"During the outage {number}"
                response = await asyncio.to_thread(post_message, server, case, api_buyer, body)
                assert response.status_code == 201, response.text
                during.append(body)
            response = await asyncio.to_thread(post_message, server, case, seller_headers, "Seller, by the form", form=True)
            assert response.status_code == 302, response.text[-2000:]
            during.append("Seller, by the form")
            statuses = await asyncio.to_thread(page_statuses, server, case, buyer_headers, agent_headers)
            assert statuses == dict.fromkeys(statuses, 200), statuses
            # A new socket is refused cleanly (an error answer or a close), never a hang.
            try:
                async with asyncio.timeout(15):
                    attempt = Chat(server, case.reference, buyer_headers)
                    await attempt.open()
                    assert await attempt.closed(timeout=10)
            except (InvalidStatus, WebSocketException, OSError):
                pass

            redis.start()
            for each in chats:
                deadline = time.monotonic() + 20
                while True:  # the client's reconnect with backoff, as live.js does on 1013
                    try:
                        await each.open()
                        for body in during:
                            await each.messages_until(body)
                        break
                    except (InvalidStatus, WebSocketException, OSError) as failure:
                        retry = not isinstance(failure, ConnectionClosed) or failure.rcvd.code == 1013
                        assert retry and time.monotonic() < deadline, f"could not reconnect: {failure!r}"
                        await asyncio.sleep(0.5)
            after = await asyncio.to_thread(post_message, server, case, api_buyer, "After the outage")
            assert after.status_code == 201, after.text
            for each in chats:
                await each.messages_until("After the outage")
                await each.socket.close()
            return chats

        chats = asyncio.run(chat())
        log = server.output(20000)

    print(log)  # shown when the test fails
    for each in chats:  # a close frame with a code, not a dropped connection
        assert each.close_codes and None not in each.close_codes, each.close_codes
    stored = list(Message.objects.filter(case=case).order_by("pk").values_list("pk", "body"))
    assert [body for _, body in stored] == ["Before the outage", *during_bodies(), "After the outage"], log
    for each in chats:
        assert sorted(each.received) == [pk for pk, _ in stored], "a message was missed or received twice"


def during_bodies() -> list[str]:
    return [f"During the outage {n}" for n in range(3)] + ["Seller, by the form"]


def test_database_cut_mid_load_fails_cleanly_and_the_service_comes_back():
    """PostgreSQL behind a TCP proxy that drops every connection for two seconds mid-load."""
    if not os_redis_url():
        pytest.skip("needs Redis for the two workers' channel layer: set REDIS_URL")
    population = seed(6, prefix="cut")
    db = connection.settings_dict
    with TcpProxy(int(db["PORT"] or 5432), db["HOST"] or "127.0.0.1") as proxy:
        database_url = database_url_for_servers().replace(f":{db['PORT'] or 5432}/", f":{proxy.port}/")
        if f":{proxy.port}/" not in database_url:
            database_url = database_url.replace("@127.0.0.1/", f"@127.0.0.1:{proxy.port}/")
        with Server("asgi", workers=2, database_url=database_url, redis_url=os_redis_url(), env=SERVER_ENV) as server:
            cut_at, seconds = 4.0, 12.0

            def outage():
                time.sleep(cut_at)
                proxy.cut()
                time.sleep(2)
                proxy.restore()

            threading.Thread(target=outage, daemon=True).start()
            traffic = asyncio.run(simulate(population, base_url=server.url, ws_url=server.ws_url, seconds=seconds))
            # The service came back by itself: every kind of request answers again.
            people = {p.role: p for p in population.people}
            with httpx.Client(base_url=server.url, timeout=30) as client:
                buyer = people["buyer"]
                answers = [
                    client.get("/cases/", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in buyer.cookies.items())}).status_code,
                    client.get(f"/api/v1/cases/{buyer.room}/", headers={"Authorization": f"Token {buyer.token}"}).status_code,
                    client.post(
                        f"/api/v1/cases/{buyer.room}/messages/",
                        json={"body": "LTafter the database came back"},
                        headers={"Authorization": f"Token {buyer.token}"},
                    ).status_code,
                ]
            log = server.output(200000)
    report = check(traffic, allow_transport_errors=True)
    print_report(traffic, report)
    print(log)

    assert answers == [200, 200, 201]
    assert set(traffic.abnormal_closes()) <= {1013, "InvalidStatus"}, "a socket was dropped without a close"
    failed = {status for (_, status), n in traffic.statuses.items() if isinstance(status, int) and status >= 500}
    assert failed <= {500, 503}, failed
    assert report.messages["doubled"] == report.messages["lost"] == report.messages["refused but stored"] == 0
    assert report.messages["error answer but stored"] == 0, "a committed message was answered as a failure"
    assert report.violations == [m for m in report.violations if m.startswith("not delivered")], report.violations


def os_redis_url() -> str:
    import os

    return os.environ.get("REDIS_URL", "")

