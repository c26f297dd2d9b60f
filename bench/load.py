"""Load with nothing lost: simulated buyers, sellers and agents at once against two ASGI workers.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60]

Creates (drops first) the database `desk_load`, migrates it, seeds people, orders and cases through
the services, starts `Server("asgi", workers=2)` on PostgreSQL + Redis, and lets every user act at
once: buyers file cases and answer offers, sellers offer, decline or accept, agents claim from the
queue and decide, and everyone writes messages over HTTP and over WebSockets. Each user keeps a
socket open to one case room and records every message frame; a closed socket reconnects with
`?after=<last id seen>`, and a gap (a frame whose previous id was not seen) asks for a resync,
as `static/js/live.js` does. At the end it checks and prints:

- requests by kind and status (no 5xx, no broken connection);
- messages sent vs stored (each unique token in a body exactly once; a refused one never) vs
  delivered to every socket in the room;
- invariants of the stored cases (see `invariant_violations`).

Exit code 1 when anything is lost, doubled or wrong. `tests/reliability/test_load.py` runs the same
code, smaller, in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Server, print_table, session_cookies, setup_django  # noqa: E402

LOAD_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desk_load"
LOAD_REDIS_URL = "redis://127.0.0.1:6379/4"
# The per-user limits are for people; simulated users write faster than the limits allow.
SERVER_ENV = {
    "RATE_LIMIT_MESSAGES": "100000/minute",
    "RATE_LIMIT_FILINGS": "100000/hour",
}
WS_SENDS_PER_WINDOW, WS_WINDOW_SECONDS = 4, 10  # under the socket's own limit (5 per 10 s)
SETTLE_SECONDS = 3  # for the last broadcasts to arrive once everyone stopped
REQUEST_TIMEOUT = 30
ACKS = ("accepted", "refused")  # what a socket answers to a message it took or refused
CLIENT_CLOSED = "closed by client"


# --- Seeding (ORM and services, in this process) --------------------------------------------


@dataclass
class Person:
    username: str
    role: str  # buyer | seller | agent
    token: str = ""
    cookies: dict = field(default_factory=dict)
    room: str = ""  # the case whose socket this person keeps open
    unfiled_orders: list[str] = field(default_factory=list)


@dataclass
class Population:
    people: list[Person]
    order_amounts: dict[str, Decimal]


def seed(users: int, *, prefix: str = "load", orders_per_buyer: int = 3) -> Population:
    """People, orders and one filed case per buyer; a third of those cases wait in the queue."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from disputes import services
    from disputes.models import Order
    from disputes.ratelimits import rate_limits_suspended
    from disputes.roles import SUPPORT_AGENTS, ensure_staff_groups
    from policies.models import Policy
    from policies.services import policy_save

    User = get_user_model()
    ensure_staff_groups()
    if not Policy.objects.filter(kind=Policy.Kind.DISPUTES, is_published=True).exists():
        policy_save(
            policy=Policy(
                slug="disputes",
                title="Buyer protection and disputes",
                kind=Policy.Kind.DISPUTES,
                body="How cases work.",
                is_published=True,
                effective_from=timezone.now() - timedelta(days=1),
                filing_window_days=30,
                seller_answer_hours=72,
                buyer_wait_hours=72,
                agent_decision_hours=48,
                return_shipping_days=10,
                appeal_window_days=7,
            ),
            actor=None,
            reason="Load test",
        )
    agents_count = max(1, users // 10)
    sellers_count = max(1, users // 5)
    buyers_count = max(1, users - agents_count - sellers_count)

    def person(role: str, index: int) -> tuple[Person, object]:
        user = User.objects.create_user(username=f"{prefix}-{role}-{index}", password=None, first_name=role.title())
        if role == "agent":
            user.groups.add(Group.objects.get(name=SUPPORT_AGENTS))
        token = Token.objects.create(user=user)
        return Person(username=user.username, role=role, token=token.key), user

    agents = [person("agent", i) for i in range(agents_count)]
    sellers = [person("seller", i) for i in range(sellers_count)]
    buyers = [person("buyer", i) for i in range(buyers_count)]
    now = timezone.now()
    amounts: dict[str, Decimal] = {}
    queued = []
    seller_rooms: dict[str, str] = {}
    with rate_limits_suspended():
        for index, (buyer, buyer_user) in enumerate(buyers):
            seller, seller_user = sellers[index % len(sellers)]
            for number in range(orders_per_buyer):
                external_id = f"{prefix}-{index}-{number}"
                amounts[external_id] = Decimal(60 + 10 * number)
                order = services.order_upsert(
                    external_id=external_id,
                    buyer=buyer_user,
                    seller=seller_user,
                    item_title=f"Item {number} of {buyer.username}",
                    amount=amounts[external_id],
                    currency="EUR",
                    status=Order.Status.DELIVERED,
                    placed_at=now - timedelta(days=7),
                    shipped_at=now - timedelta(days=5),
                    delivered_at=now - timedelta(days=2),
                    carrier="DHL",
                    tracking_number=f"JD{index:04d}{number}",
                )
                if number:
                    buyer.unfiled_orders.append(external_id)
                    continue
                case = services.case_file(
                    buyer=buyer_user,
                    order=order,
                    reason="not_as_described",
                    requested_outcome="partial_refund",
                    amount_claimed=Decimal("20.00"),
                    description="Load test: not as described.",
                )
                buyer.room = case.reference
                seller_rooms.setdefault(seller.username, case.reference)
                if index % 3 == 0:
                    services.case_decline_claim(case=case, seller=seller_user, note="Load test")
                    services.case_escalate(case=case, buyer=buyer_user)
                    queued.append(case.reference)
    for seller, _ in sellers:
        seller.room = seller_rooms.get(seller.username, buyers[0][0].room)
    for index, (agent, _) in enumerate(agents):
        agent.room = queued[index % len(queued)] if queued else buyers[0][0].room
    people = [p for p, _ in buyers + sellers + agents]
    for p in people:
        p.cookies = session_cookies(p.username)
    return Population(people=people, order_amounts=amounts)


# --- Traffic ---------------------------------------------------------------------------------


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
        """As live.js: a frame after a gap is not taken; the resync brings it with what was missed."""
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


# --- Checks (ORM, in this process) -------------------------------------------------------------


@dataclass
class Report:
    messages: dict
    delivery: dict
    violations: list[str]
    server_errors: int
    transport_errors: int

    @property
    def ok(self) -> bool:
        return not (
            self.violations
            or self.server_errors
            or self.transport_errors
            or self.messages["lost"]
            or self.messages["doubled"]
            or self.messages["refused but stored"]
            or self.messages["error answer but stored"]
            or self.delivery["missing"]
        )


def check(traffic: Traffic, *, allow_transport_errors: bool = False) -> Report:
    from disputes.models import Case, Message

    tokens = defaultdict(list)
    for message_id, body in Message.objects.filter(body__startswith="LT").values_list("pk", "body"):
        tokens[body.split(" ", 1)[0]].append(message_id)
    outcomes = Counter(sent.outcome for sent in traffic.sent)
    messages = {
        "sent": len(traffic.sent),
        "accepted": outcomes["accepted"],
        "refused": outcomes["refused"],
        "unknown (no answer)": outcomes["unknown"],
        "error answer": outcomes["error"],
        "stored": sum(1 for sent in traffic.sent if tokens.get(sent.token)),
        "lost": sum(1 for s in traffic.sent if s.outcome == "accepted" and not tokens.get(s.token)),
        "doubled": sum(1 for ids in tokens.values() if len(ids) > 1),
        "refused but stored": sum(1 for s in traffic.sent if s.outcome == "refused" and tokens.get(s.token)),
        # A server error after the message was committed: the sender would send it again.
        "error answer but stored": sum(1 for s in traffic.sent if s.outcome == "error" and tokens.get(s.token)),
        "acknowledged id differs": sum(
            1 for s in traffic.sent if s.message_id and tokens.get(s.token) and s.message_id not in tokens[s.token]
        ),
    }
    messages["lost"] += messages["acknowledged id differs"]

    case_ids = {room: Case.pk_from_reference(room) for room in {s.room for s in traffic.sockets}}
    stored_by_case = defaultdict(list)
    for message_id, case_id, internal in Message.objects.filter(case_id__in=case_ids.values()).values_list(
        "pk", "case_id", "is_internal"
    ):
        stored_by_case[case_id].append((message_id, internal))
    delivery = Counter()
    missing_examples = []
    for socket in traffic.sockets:
        expected = {mid for mid, internal in stored_by_case[case_ids[socket.room]] if socket.is_agent or not internal}
        received = socket.live | socket.resynced
        delivery["expected"] += len(expected)
        delivery["live"] += len(expected & socket.live)
        delivery["by resync only"] += len((expected & socket.resynced) - socket.live)
        missing = expected - received
        delivery["missing"] += len(missing)
        delivery["unexpected"] += len(received - expected)
        delivery["duplicate frames"] += socket.duplicate_frames
        delivery["gaps noticed"] += socket.gaps
        delivery["reconnects"] += max(0, socket.connects - 1)
        if missing and len(missing_examples) < 5:
            missing_examples.append(f"{socket.username} in {socket.room}: {sorted(missing)[:5]}")
    delivery["missing"] += delivery.pop("unexpected")
    violations = invariant_violations() + [f"not delivered: {example}" for example in missing_examples]
    return Report(
        messages=messages,
        delivery=dict(delivery),
        violations=violations,
        server_errors=traffic.server_errors(),
        transport_errors=0 if allow_transport_errors else traffic.transport_errors(),
    )


def invariant_violations() -> list[str]:
    """What no sequence of requests may leave behind."""
    from django.db.models import Count, Sum

    from disputes.models import Case, Decision, Order, RefundInstruction

    S = Case.State
    problems = []
    settled = (S.RESOLVED, S.AWAITING_RETURN, S.APPEALED, S.CLOSED)
    for case in Case.objects.filter(state__in=(S.RESOLVED, S.AWAITING_RETURN, S.CLOSED), outcome=""):
        if not (case.state == S.CLOSED and case.history.filter(state=S.AWAITING_BUYER).exists()):
            problems.append(f"{case.reference} is {case.state} without an outcome")
    for decision in Decision.objects.select_related("case"):
        case = decision.case
        if case.state not in settled:
            problems.append(f"{case.reference} has a {decision.stage} decision but is {case.state}")
        latest = Decision.objects.filter(case=case).order_by("-decided_at", "-pk").first()
        if latest.pk == decision.pk and case.outcome != decision.outcome:
            problems.append(f"{case.reference}: outcome {case.outcome!r}, decision said {decision.outcome!r}")
    for row in Case.objects.exclude(state__in=(S.CLOSED, S.WITHDRAWN, S.RESOLVED)).values("order").annotate(
        n=Count("pk")
    ).filter(n__gt=1):
        problems.append(f"order {row['order']} has {row['n']} open cases")
    for order in Order.objects.annotate(refunded=Sum("cases__refunds__amount")).filter(refunded__isnull=False):
        if order.refunded > order.amount:
            problems.append(f"order {order.external_id}: refunded {order.refunded} of {order.amount}")
    for refund in RefundInstruction.objects.select_related("case"):
        if refund.case.state not in settled:
            problems.append(f"{refund.case.reference} has a refund but is {refund.case.state}")
    for row in RefundInstruction.objects.values("case").annotate(n=Count("pk")).filter(n__gt=2):
        problems.append(f"case {row['case']} has {row['n']} refund instructions")
    for case in Case.objects.all():
        rows = list(case.history.order_by("history_date", "history_id").values_list("state", flat=True))
        if not rows or rows[0] != S.OPEN:
            problems.append(f"{case.reference} has no history row for its filing")
        elif rows[-1] != case.state:
            problems.append(f"{case.reference} is {case.state} but its history ends at {rows[-1]}")
        if case.state in (S.RESOLVED, S.APPEALED) and case.refund_amount:
            if not case.refunds.filter(idempotency_key=f"{case.reference}-resolution").exists():
                problems.append(f"{case.reference} is {case.state} with a refund but has no refund instruction")
    return problems


def print_report(traffic: Traffic, report: Report, *, verdict: bool = True) -> None:
    print(f"\nRequests ({traffic.seconds} s):")
    rows = sorted(traffic.statuses.items(), key=lambda item: (item[0][0], str(item[0][1])))
    print_table(["kind", "status", "count"], [[kind, status, n] for (kind, status), n in rows])
    print("\nMessages (each carries a unique token):")
    print_table(["what", "count"], [[k, v] for k, v in report.messages.items()])
    print("\nDelivery to the sockets in each room (every message stored on that case):")
    print_table(["what", "count"], [[k, v] for k, v in sorted(report.delivery.items())])
    closes = traffic.abnormal_closes()
    print(f"\nServer errors (5xx): {report.server_errors}; broken connections: {report.transport_errors}")
    if closes:
        print("Sockets closed by the server or the network (close code → count):", dict(closes))
    print(f"Invariant violations: {len(report.violations)}")
    for problem in report.violations[:30]:
        print(f"  - {problem}")
    if verdict:
        print("\nRESULT:", "nothing lost or wrong" if report.ok else "FAILED")


# --- The command ----------------------------------------------------------------------------


def fresh_database(database_url: str) -> None:
    """Drop and create the database named in `database_url`, then migrate it."""
    import psycopg
    from django.core.management import call_command
    from django.db import connections

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    connections.close_all()
    call_command("migrate", verbosity=0)


def flush_redis(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database-url", default=LOAD_DATABASE_URL)
    parser.add_argument("--redis-url", default=LOAD_REDIS_URL)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    setup_django(args.database_url, args.redis_url)
    print(f"Fresh database {args.database_url}, seeding {args.users} users ...")
    fresh_database(args.database_url)
    flush_redis(args.redis_url)
    population = seed(args.users)
    with Server(
        "asgi", workers=args.workers, database_url=args.database_url, redis_url=args.redis_url, env=SERVER_ENV
    ) as server:
        print(f"{args.workers} ASGI workers at {server.url}; {args.users} users for {args.seconds:g} s ...")
        traffic = asyncio.run(simulate(population, base_url=server.url, ws_url=server.ws_url, seconds=args.seconds))
        log = server.output(20000)
    report = check(traffic)
    print_report(traffic, report)
    if not report.ok and log.strip():
        print("\nServer log (end):\n" + log[-5000:])
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
