"""The load's journeys: every simulated user at once, over HTTP and a WebSocket, and what they saw.

Buyers file cases on their other orders and answer offers, sellers offer, decline or accept,
agents claim from the queue and decide, and everyone writes messages (over the API and over the
socket, each body with a unique token) and reads their pages. Each user keeps a socket open to
one case room and records every message frame: a closed socket reconnects with
`?after=<last id seen>`, and a frame after a gap asks for a resync, as `static/js/live-case.js` does.
`simulate` returns the `Traffic`: statuses by kind, every message sent and every socket's view.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from bench.load_people import Person, Population

WS_SENDS_PER_WINDOW, WS_WINDOW_SECONDS = 4, 10  # under the socket's own limit (5 per 10 s)
SETTLE_SECONDS = 3  # for the last broadcasts to arrive once everyone stopped
REQUEST_TIMEOUT = 30
ACKS = ("accepted", "refused")  # what a socket answers to a message it took or refused
CLIENT_CLOSED = "closed by client"


@dataclass
class Sent:
    token: str
    room: str
    via: str  # http | ws
    outcome: str  # accepted | refused | unknown
    message_id: int | None = None


@dataclass
class Socket:
    """One person's view of one room: every message frame received, and how."""

    username: str
    room: str
    is_agent: bool
    last_seen: int = 0
    live: set[int] = field(default_factory=set)
    resynced: set[int] = field(default_factory=set)
    duplicate_frames: int = 0
    connects: int = 0
    close_codes: Counter = field(default_factory=Counter)
    gaps: int = 0


@dataclass
class Traffic:
    statuses: Counter = field(default_factory=Counter)  # (kind, status or error name) → count
    sent: list[Sent] = field(default_factory=list)
    sockets: list[Socket] = field(default_factory=list)
    seconds: float = 0.0

    def server_errors(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if isinstance(status, int) and status >= 500)

    def transport_errors(self) -> int:
        """Requests without an answer, socket sends without an ack, sockets the server broke off."""
        failed = sum(
            n for (_, status), n in self.statuses.items() if not isinstance(status, int) and status not in ACKS
        )
        return failed + sum(self.abnormal_closes().values())

    def abnormal_closes(self) -> Counter:
        closes = Counter()
        for socket in self.sockets:
            closes.update({code: n for code, n in socket.close_codes.items() if code not in (1000, CLIENT_CLOSED)})
        return closes


class User:
    def __init__(self, person: Person, traffic: Traffic, *, base_url: str, ws_url: str, deadline: float, rng):
        import httpx

        self.person = person
        self.traffic = traffic
        self.base_url = base_url
        self.ws_url = ws_url
        self.deadline = deadline
        self.rng = rng
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Token {person.token}"},
            timeout=REQUEST_TIMEOUT,
        )
        self.pages = httpx.AsyncClient(base_url=base_url, cookies=person.cookies, timeout=REQUEST_TIMEOUT)
        self.socket = Socket(person.username, person.room, person.role == "agent")
        traffic.sockets.append(self.socket)
        self.connection = None
        self.connected = asyncio.Event()
        self.waiting_ack: asyncio.Future | None = None
        self.ws_sent_at: list[float] = []
        self.my_cases = {person.room} if person.role != "agent" else set()
        self.finished_reading = False

    async def request(self, kind: str, method: str, url: str, client=None, **kwargs):
        import httpx

        try:
            response = await (client or self.http).request(method, url, **kwargs)
        except httpx.HTTPError as error:
            self.traffic.statuses[(kind, type(error).__name__)] += 1
            return None
        self.traffic.statuses[(kind, response.status_code)] += 1
        return response

    # The socket: connect, read, reconnect with ?after=, resync on a gap.

    async def read_room(self, stop: asyncio.Event) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        cookie = "; ".join(f"{k}={v}" for k, v in self.person.cookies.items())
        while not stop.is_set():
            url = f"{self.ws_url}/ws/cases/{self.socket.room}/?after={self.socket.last_seen}"
            try:
                async with connect(
                    url, additional_headers={"Cookie": cookie}, origin=self.base_url, open_timeout=10
                ) as connection:
                    self.socket.connects += 1
                    self.connection = connection
                    self.connected.set()
                    reader = asyncio.ensure_future(self._frames(connection))
                    stopper = asyncio.ensure_future(stop.wait())
                    await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    stopper.cancel()
                    if not reader.done():
                        reader.cancel()
                    code = connection.close_code
                self.socket.close_codes[CLIENT_CLOSED if stop.is_set() else code] += 1
            except (OSError, asyncio.TimeoutError, WebSocketException) as error:
                self.socket.close_codes[type(error).__name__] += 1
            finally:
                self.connection = None
                self.connected.clear()
                self._fail_ack("unknown")
            if not stop.is_set():
                await asyncio.sleep(0.5 + self.rng.random())  # backoff before reconnecting

    async def _frames(self, connection) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for text in connection:
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "message":
                    await self._message(connection, frame)
                elif kind == "sent":
                    self._ack("accepted", frame.get("id"))
                elif kind == "error":
                    self._ack("refused", None)
        except ConnectionClosed:
            pass

    async def _message(self, connection, frame: dict) -> None:
        """As live-case.js: a frame after a gap is not taken; the resync brings it with what was missed."""
        message_id = frame["id"]
        live = "previous_public_id" in frame
        if message_id <= self.socket.last_seen:
            self.socket.duplicate_frames += 1
            return
        if live:
            previous = frame["previous_id"] if self.socket.is_agent else frame["previous_public_id"]
            if previous > self.socket.last_seen:
                self.socket.gaps += 1
                await connection.send(json.dumps({"type": "resync", "after": self.socket.last_seen}))
                return
        (self.socket.live if live else self.socket.resynced).add(message_id)
        self.socket.last_seen = message_id

    def _ack(self, outcome: str, message_id) -> None:
        if self.waiting_ack is not None and not self.waiting_ack.done():
            self.waiting_ack.set_result((outcome, message_id))

    def _fail_ack(self, outcome: str) -> None:
        self._ack(outcome, None)

    # Actions

    def token_body(self) -> tuple[str, str]:
        token = f"LT{uuid.uuid4().hex}"
        return token, f"{token} from {self.person.username}"

    async def post_http(self, room: str) -> None:
        token, body = self.token_body()
        response = await self.request("message http", "POST", f"/api/v1/cases/{room}/messages/", json={"body": body})
        if response is None:
            outcome, message_id = "unknown", None
        elif response.status_code == 201:
            outcome, message_id = "accepted", response.json()["id"]
        elif response.status_code >= 500:
            outcome, message_id = "error", None
        else:
            outcome, message_id = "refused", None
        self.traffic.sent.append(Sent(token, room, "http", outcome, message_id))

    async def post_ws(self) -> None:
        now = time.monotonic()
        self.ws_sent_at = [t for t in self.ws_sent_at if now - t < WS_WINDOW_SECONDS]
        connection = self.connection
        if connection is None or len(self.ws_sent_at) >= WS_SENDS_PER_WINDOW:
            return await self.post_http(self.socket.room)
        self.ws_sent_at.append(now)
        token, body = self.token_body()
        self.waiting_ack = asyncio.get_running_loop().create_future()
        try:
            await connection.send(json.dumps({"type": "message.send", "body": body, "client_id": token}))
            outcome, message_id = await asyncio.wait_for(asyncio.shield(self.waiting_ack), REQUEST_TIMEOUT)
        except Exception:  # noqa: BLE001 - the socket went away: the outcome is unknown
            outcome, message_id = "unknown", None
        self.traffic.statuses[("message ws", outcome)] += 1
        self.traffic.sent.append(Sent(token, self.socket.room, "ws", outcome, message_id))

    async def case_actions(self, reference: str) -> tuple[str, list[str]]:
        response = await self.request("case detail", "GET", f"/api/v1/cases/{reference}/")
        if response is None or response.status_code != 200:
            return "", []
        data = response.json()
        return data["state"], [action["name"] for action in data.get("actions", [])]

    async def transition(self, reference: str, name: str, **params) -> None:
        await self.request(
            f"transition {name}", "POST", f"/api/v1/cases/{reference}/transitions/", json={"name": name, **params}
        )

    async def act(self) -> None:
        role, rng = self.person.role, self.rng
        choice = rng.random()
        if choice < 0.30:
            return await self.post_http(rng.choice(sorted(self.my_cases)) if self.my_cases else self.socket.room)
        if choice < 0.55:
            return await self.post_ws()
        if choice < 0.62:
            page = {"buyer": "/cases/", "seller": "/seller/", "agent": "/console/"}[role]
            await self.request(f"page {page}", "GET", page, client=self.pages)
            return
        if role == "buyer":
            if self.person.unfiled_orders and choice < 0.75:
                return await self.file_case()
            return await self.answer_as_buyer()
        if role == "seller":
            return await self.answer_as_seller()
        return await self.work_queue(claim=choice < 0.85)

    async def file_case(self) -> None:
        order = self.person.unfiled_orders.pop()
        response = await self.request(
            "file case",
            "POST",
            "/api/v1/cases/",
            json={
                "order": order,
                "reason": "damaged",
                "requested_outcome": "partial_refund",
                "amount_claimed": "15.00",
                "description": "Load test: arrived damaged.",
            },
        )
        if response is not None and response.status_code == 201:
            self.my_cases.add(response.json()["reference"])

    async def answer_as_buyer(self) -> None:
        reference = self.rng.choice(sorted(self.my_cases))
        _state, actions = await self.case_actions(reference)
        for name in ("accept_offer", "decline_offer", "escalate"):
            if name in actions:
                return await self.transition(reference, name, note="Load test")

    async def answer_as_seller(self) -> None:
        response = await self.request("case list", "GET", "/api/v1/cases/", params={"state": "open"})
        if response is None or response.status_code != 200 or not response.json()["results"]:
            return
        reference = self.rng.choice(response.json()["results"])["reference"]
        self.my_cases.add(reference)
        _state, actions = await self.case_actions(reference)
        pick = self.rng.random()
        if "make_offer" in actions and pick < 0.5:
            await self.transition(reference, "make_offer", kind="partial_refund", amount="10.00", note="Load test")
        elif "decline_claim" in actions and pick < 0.8:
            await self.transition(reference, "decline_claim", note="Load test")
        elif "accept_claim" in actions:
            await self.transition(reference, "accept_claim")

    async def work_queue(self, *, claim: bool) -> None:
        state = "escalated" if claim else "in_mediation"
        response = await self.request("case list", "GET", "/api/v1/cases/", params={"state": state})
        if response is None or response.status_code != 200 or not response.json()["results"]:
            return
        reference = self.rng.choice(response.json()["results"])["reference"]
        if claim:
            await self.transition(reference, "claim")
            self.my_cases.add(reference)
        else:  # another agent's case is refused (403): only the assigned agent decides
            outcome = self.rng.choice(["full_refund", "partial_refund", "no_action"])
            await self.transition(
                reference, "decide", outcome=outcome, amount="12.50", rationale="Load test: decided on the evidence."
            )

    async def run(self) -> None:
        while time.monotonic() < self.deadline:
            await self.act()
            await asyncio.sleep(0.2 + self.rng.random() * 0.8)  # think time; the loop ends at the deadline

    async def close(self) -> None:
        await self.http.aclose()
        await self.pages.aclose()


async def simulate(population: Population, *, base_url: str, ws_url: str, seconds: float, seed: int = 1) -> Traffic:
    """Everyone at once for `seconds`; sockets stay open until the last broadcasts arrived."""
    traffic = Traffic()
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    users = [
        User(p, traffic, base_url=base_url, ws_url=ws_url, deadline=deadline, rng=random.Random(rng.random()))
        for p in population.people
    ]
    stop = asyncio.Event()
    readers = [asyncio.ensure_future(user.read_room(stop)) for user in users]
    await asyncio.wait_for(asyncio.gather(*(u.connected.wait() for u in users)), 60)
    began = time.monotonic()
    for user in users:
        user.deadline = began + seconds
    await asyncio.gather(*(user.run() for user in users))
    traffic.seconds = round(time.monotonic() - began, 1)
    await asyncio.sleep(SETTLE_SECONDS)
    stop.set()
    await asyncio.gather(*readers)
    for user in users:
        await user.close()
    return traffic
