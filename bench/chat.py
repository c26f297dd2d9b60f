"""Live chat under load: case rooms over WebSockets on the Redis channel layer, beside a bare
broadcast baseline on the same server.

    .venv/bin/python bench/chat.py                       # 100 and 500 clients, rooms of 10, 10 msgs/s a room
    .venv/bin/python bench/chat.py --clients 50 --seconds 5 --idle 200    # a quick look

The bench database (default postgres://postgres@127.0.0.1:5432/desk_chat) is created when
missing and migrated; users and cases are made through the services. Each room is one case:
its buyer, its seller and agents up to the room size. Clients are signed in with session
cookies and connect to /ws/cases/<reference>/ on `Server("asgi", workers=2)`, so the sockets of
one room spread over both worker processes and meet on Redis. Every client sends
`message.send` frames at a steady rate; every body carries a unique token and the send time
(time.monotonic, one clock for every process on the machine), and every client records when
each message frame reaches it. Lost = messages stored in the database that some member of
their room never received live (no resync is counted).

The baseline is `bench.asgi`'s /ws/bench/broadcast/<room>/: the same clients, rooms and rate on
the same server and Redis layer, a consumer that only group_sends what it gets (no sign-in, no
database). Echo: round trips of `ping` → `pong` through the case consumer, beside
/ws/bench/echo/. Idle: one worker process holding --idle sockets in case rooms; its RSS before
and after, from /proc/<pid>/status; then the same on a fresh worker with bare broadcast sockets.
`--only idle` runs the idle part alone.

Not a test: it writes users, cases and messages into the database it is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import sys
import time
from collections import defaultdict, deque
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from websockets.exceptions import ConnectionClosed  # noqa: E402

from bench.harness import PROJECT_ROOT, Server, percentile, print_table, rss_kib, setup_django  # noqa: E402

RESULTS = PROJECT_ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desk_chat"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
APP = "bench.asgi:application"
AGENT_POOL = 40
# The benchmark's steady rate is above what one person may send (5 per 10 s a socket, 30 a
# minute a user): lift both limits on the bench server, so what is measured is the delivery.
SERVER_ENV = {"RATE_LIMIT_MESSAGES": "1000000/minute", "BENCH_SOCKET_MESSAGES": "1000000"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="100,500", help="comma-separated client counts, one run each")
    parser.add_argument("--room-size", type=int, default=10)
    parser.add_argument(
        "--room-rate", default="10", help="messages/s sent in each room, one value or one per run (comma-separated)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each run sends")
    parser.add_argument("--drain", type=float, default=5.0, help="longest wait for the last deliveries")
    parser.add_argument("--echo-clients", type=int, default=100)
    parser.add_argument("--echo-seconds", type=float, default=5.0)
    parser.add_argument("--idle", type=int, default=2000, help="idle sockets held by one worker (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--only", choices=["product", "baseline", "idle"], help="skip the other side of each run, or all but idle"
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--json", default=str(RESULTS / "chat.json"), help="where to write the figures ('' for none)")
    return parser.parse_args(argv)


# Data: users and cases through the services, once per database.


def prepare_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench/chat.py needs a PostgreSQL database URL.")
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_rooms(count: int, room_size: int) -> list[dict]:
    """`count` open cases, each with the usernames of its room's members (buyer, seller, agents)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone as dj_timezone

    from disputes import services
    from disputes.models import Case, Order
    from disputes.ratelimits import rate_limits_suspended
    from disputes.roles import SUPPORT_AGENTS
    from policies.models import Policy
    from policies.services import policy_save

    User = get_user_model()
    now = dj_timezone.now()
    if not Policy.objects.filter(slug="disputes").exists():
        policy_save(
            policy=Policy(
                slug="disputes", title="Buyer protection and disputes", kind=Policy.Kind.DISPUTES,
                body="How cases work.", is_published=True, effective_from=now - timedelta(days=30),
            ),
            actor=None, reason="Chat benchmark",
        )  # fmt: skip
    agents_group = Group.objects.get(name=SUPPORT_AGENTS)
    agents = []
    for k in range(AGENT_POOL):
        agent, created = User.objects.get_or_create(
            username=f"chat-agent-{k}", defaults={"first_name": f"Agent{k}", "is_staff": True}
        )
        if created:
            agent.groups.add(agents_group)
        agents.append(agent.username)
    rooms = []
    with rate_limits_suspended():
        for i in range(count):
            external_id = f"CHAT-{i:05d}"
            case = Case.objects.filter(order__external_id=external_id, state=Case.State.OPEN).first()
            if case is None:
                buyer, _ = User.objects.get_or_create(username=f"chat-buyer-{i}", defaults={"first_name": "Bea"})
                seller, _ = User.objects.get_or_create(username=f"chat-seller-{i}", defaults={"first_name": "Sam"})
                Case.objects.filter(order__external_id=external_id).delete()  # finished by hand: start again
                Order.objects.filter(external_id=external_id).delete()
                order = services.order_upsert(
                    external_id=external_id, buyer=buyer, seller=seller, item_title="Walnut desk lamp",
                    amount=Decimal("80.00"), currency="EUR", status=Order.Status.DELIVERED,
                    placed_at=now - timedelta(days=7), shipped_at=now - timedelta(days=5),
                    delivered_at=now - timedelta(days=2), carrier="DHL", tracking_number=f"JD{i:06d}",
                )  # fmt: skip
                case = services.case_file(
                    buyer=buyer, order=order, reason="not_as_described", requested_outcome="partial_refund",
                    amount_claimed=Decimal("30.00"), description="The lamp arrived with a cracked shade.",
                )  # fmt: skip
            members = [f"chat-buyer-{i}", f"chat-seller-{i}"]
            members += [agents[(i * (room_size - 2) + k) % AGENT_POOL] for k in range(room_size - 2)]
            rooms.append({"case_id": case.pk, "reference": case.reference, "members": members[:room_size]})
    return rooms


def cookie_headers(usernames, base_url: str) -> dict[str, list[tuple[str, str]]]:
    from django.conf import settings

    from bench.harness import session_cookies

    headers = {}
    for name in sorted(set(usernames)):
        cookie = session_cookies(name)[settings.SESSION_COOKIE_NAME]
        headers[name] = [("Cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}"), ("Origin", base_url)]
    return headers


# Clients.


class Client:
    """One socket: sends at a steady rate, records each message frame it receives."""

    def __init__(self, index: int, room: int, url: str, headers):
        self.index, self.room, self.url, self.headers = index, room, url, headers
        self.socket = None
        self.received: dict[str, float] = {}  # token → latency ms
        self.sent: list[str] = []
        self.acked = 0
        self.errors: dict[str, int] = defaultdict(int)
        self.last_receive = 0.0
        self.closing = False
        self.pongs: list[float] = []
        self._ping_sent: deque[float] = deque()  # answers come back in order on one socket

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        self.socket = await connect(
            self.url, additional_headers=self.headers, compression=None, ping_interval=None,
            max_queue=None, open_timeout=60, close_timeout=5,
        )  # fmt: skip
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for text in self.socket:
                now = time.monotonic()
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "message":
                    parts = frame.get("body", "").split(" ")
                    if len(parts) == 3 and parts[0] == "bench":
                        self.received[parts[1]] = (now - float(parts[2])) * 1000
                        self.last_receive = now
                elif kind == "sent":
                    self.acked += 1
                elif kind == "pong":
                    if self._ping_sent:
                        self.pongs.append((now - self._ping_sent.popleft()) * 1000)
                elif kind == "error":
                    self.errors[frame.get("code", "?")] += 1
        except ConnectionClosed as closed:
            if not self.closing:
                self.errors[f"closed {closed.rcvd.code if closed.rcvd else 'abruptly'}"] += 1

    async def send_steadily(self, tag: str, rate: float, start: float, stop: float, broadcast: bool) -> None:
        interval = 1 / rate
        moment = start + random.random() * interval
        seq = 0
        while moment < stop:
            delay = moment - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            token = f"{tag}-{self.index}-{seq}"
            body = f"bench {token} {time.monotonic():.6f}"
            frame = {"type": "message", "body": body} if broadcast else {"type": "message.send", "body": body}
            try:
                await self.socket.send(json.dumps(frame))
            except ConnectionClosed:
                return  # counted by the reader; the room's other members still send
            self.sent.append(token)
            seq += 1
            moment += interval  # open loop: a late send does not push the next ones back

    async def ping_steadily(self, rate: float, start: float, stop: float, echo: bool) -> None:
        interval = 1 / rate
        moment = start + random.random() * interval
        # The case consumer answers a ping with {"type": "pong"}; the echo consumer returns the
        # frame as it is, so it is sent a pong.
        frame = json.dumps({"type": "pong" if echo else "ping"})
        while moment < stop:
            delay = moment - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._ping_sent.append(time.monotonic())
            try:
                await self.socket.send(frame)
            except ConnectionClosed:
                return
            moment += interval

    async def close(self) -> None:
        if self.socket is not None:
            self.closing = True
            await self.socket.close()
            await asyncio.gather(self.reader, return_exceptions=True)


async def open_all(clients: list[Client], concurrency: int = 25) -> float:
    gate = asyncio.Semaphore(concurrency)
    began = time.monotonic()

    async def one(client):
        async with gate:
            await client.connect()

    await asyncio.gather(*(one(c) for c in clients))
    return time.monotonic() - began


def make_clients(ws_url: str, rooms: list[dict], headers, n: int, room_size: int, baseline: bool) -> list[Client]:
    clients = []
    for index in range(n):
        room = rooms[index // room_size]
        member = room["members"][index % room_size]
        path = f"/ws/bench/broadcast/{room['case_id']}/" if baseline else f"/ws/cases/{room['reference']}/"
        clients.append(Client(index, index // room_size, ws_url + path, headers[member]))
    return clients


async def chat_run(server: Server, rooms, headers, *, n, room_size, room_rate, seconds, drain, baseline) -> dict:
    tag = f"{'b' if baseline else 'p'}{int(time.time() * 1000) % 10**9}x{n}"
    clients = make_clients(server.ws_url, rooms, headers, n, room_size, baseline)
    connect_seconds = await open_all(clients)
    await asyncio.sleep(1.0)  # presence announcements and replays settle before the clock starts
    for client in clients:
        client.received.clear()
        client.errors.clear()
    members = min(room_size, n)
    rate = room_rate / members
    start = time.monotonic() + 0.5
    stop = start + seconds
    await asyncio.gather(*(c.send_steadily(tag, rate, start, stop, baseline) for c in clients))
    sent_by_room: dict[int, set[str]] = defaultdict(set)
    for client in clients:
        sent_by_room[client.room].update(client.sent)
    # Wait for the last deliveries: every member has every message of its room, or time is up.
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline:
        if all(len(c.received) >= len(sent_by_room[c.room]) for c in clients) and (
            baseline or sum(c.acked for c in clients) >= sum(len(c.sent) for c in clients)
        ):
            break
        await asyncio.sleep(0.1)
    await asyncio.gather(*(c.close() for c in clients))

    if baseline:
        expected_by_room = sent_by_room
        stored = None
        await asyncio.sleep(3.0)  # let a backlog on the server drain before the next run
    else:
        settled = await asyncio.to_thread(wait_until_stored, tag)
        expected_by_room = await asyncio.to_thread(stored_tokens, tag, rooms)
        stored = sum(len(tokens) for tokens in expected_by_room.values())
    latencies = [ms for c in clients for token, ms in c.received.items() if token in expected_by_room[c.room]]
    deliveries = len(latencies)
    lost = sum(len(expected_by_room[c.room] - c.received.keys()) for c in clients)
    sent = sum(len(c.sent) for c in clients)
    last = max((c.last_receive for c in clients), default=stop)
    elapsed = max(last, stop) - start
    errors: dict[str, int] = defaultdict(int)
    for client in clients:
        for code, count in client.errors.items():
            errors[code] += count
    return {
        "kind": "baseline broadcast" if baseline else "case rooms",
        "clients": n,
        "rooms": len(sent_by_room),
        "room_rate": room_rate,
        "connect_seconds": round(connect_seconds, 2),
        "sent": sent,
        "acked": None if baseline else sum(c.acked for c in clients),
        "stored": stored,
        "expected_deliveries": sum(len(expected_by_room[c.room]) for c in clients),
        "deliveries": deliveries,
        "lost": lost,
        "sent_per_second": round(sent / seconds, 1),
        "delivered_per_second": round(deliveries / elapsed, 1) if elapsed > 0 else 0,
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "errors": dict(errors),
        "settle_seconds": None if baseline else round(settled, 1),
    }


def wait_until_stored(tag: str, limit: float = 120.0) -> float:
    """A server behind on its work keeps storing after the sockets close: wait for the count to
    hold still, so the next run starts on an idle server and `stored` is final."""
    from disputes.models import Message

    began = time.monotonic()
    last, still_since = -1, began
    while time.monotonic() - began < limit:
        count = Message.objects.filter(body__startswith=f"bench {tag}-").count()
        if count != last:
            last, still_since = count, time.monotonic()
        elif time.monotonic() - still_since >= 2.0:
            break
        time.sleep(0.5)
    return time.monotonic() - began


def stored_tokens(tag: str, rooms: list[dict]) -> dict[int, set[str]]:
    from disputes.models import Message

    room_of_case = {room["case_id"]: index for index, room in enumerate(rooms)}
    by_room: dict[int, set[str]] = defaultdict(set)
    for case_id, body in Message.objects.filter(body__startswith=f"bench {tag}-").values_list("case_id", "body"):
        by_room[room_of_case[case_id]].add(body.split(" ")[1])
    return by_room


async def echo_run(server: Server, rooms, headers, *, n, room_size, seconds, echo) -> dict:
    clients = make_clients(server.ws_url, rooms, headers, n, room_size, baseline=False)
    if echo:
        for client in clients:
            client.url = f"{server.ws_url}/ws/bench/echo/{client.room}/"
    await open_all(clients)
    await asyncio.sleep(1.0)
    for client in clients:
        client.pongs.clear()
    start = time.monotonic() + 0.3
    await asyncio.gather(*(c.ping_steadily(2.0, start, start + seconds, echo) for c in clients))
    await asyncio.sleep(0.5)
    await asyncio.gather(*(c.close() for c in clients))
    rtts = [ms for c in clients for ms in c.pongs]
    return {
        "kind": "baseline echo" if echo else "case room ping",
        "clients": n,
        "round_trips": len(rtts),
        "p50_ms": round(statistics.median(rtts), 2) if rtts else None,
        "p99_ms": round(percentile(rtts, 0.99), 2) if rtts else None,
    }


async def idle_run(server: Server, rooms, headers, *, n, room_size, baseline=False) -> dict:
    worker = server.worker_pids()[0]
    # Warm the worker first (imports, connections, caches) so the delta is the sockets' own cost.
    warm = make_clients(server.ws_url, rooms, headers, room_size, room_size, baseline)
    await open_all(warm)
    await asyncio.sleep(1.0)
    await asyncio.gather(*(c.close() for c in warm))
    await asyncio.sleep(1.0)
    before = rss_kib(worker)
    clients = make_clients(server.ws_url, rooms, headers, n, room_size, baseline)
    connect_seconds = await open_all(clients)
    await asyncio.sleep(3.0)
    after = rss_kib(worker)
    # Every socket still answers: the worker holds them, it did not drop them.
    for client in clients:
        client.pongs.clear()
    start = time.monotonic()
    # The broadcast socket sends a frame to its whole room: a "pong" comes back to each member.
    await asyncio.gather(*(c.ping_steadily(1.0, start - 1.0, start, echo=baseline) for c in clients))  # one each
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline and not all(c.pongs for c in clients):
        await asyncio.sleep(0.2)
    answering = sum(1 for c in clients if c.pongs)
    await asyncio.gather(*(c.close() for c in clients))
    return {
        "kind": "idle bare broadcast sockets, one worker" if baseline else "idle sockets, one worker",
        "sockets": n,
        "answering": answering,
        "connect_seconds": round(connect_seconds, 1),
        "rss_before_mb": round(before / 1024, 1),
        "rss_after_mb": round(after / 1024, 1),
        "rss_delta_mb": round((after - before) / 1024, 1),
        "kib_per_socket": round((after - before) / n, 1),
    }


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()  # this benchmark's own database number only


def main(argv=None) -> dict:
    args = parse_args(argv)
    client_counts = [int(x) for x in args.clients.split(",") if x]
    rates = [float(x) for x in args.room_rate.split(",")]
    rates = rates * len(client_counts) if len(rates) == 1 else rates
    if len(rates) != len(client_counts):
        sys.exit("--room-rate takes one value, or one per --clients run")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(client_counts + [args.idle, args.echo_clients]) * 2 + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))

    prepare_database(args.database_url)
    setup_django(args.database_url, args.redis_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    flush_redis(args.redis_url)
    most = max(client_counts + [args.idle, args.echo_clients])
    began = time.monotonic()
    rooms = ensure_rooms(-(-most // args.room_size), args.room_size)
    print(f"{len(rooms)} case rooms ready in {time.monotonic() - began:.1f} s", flush=True)

    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores",
        "database": urlsplit(args.database_url).path.lstrip("/"),
        "room_size": args.room_size,
        "seconds": args.seconds,
        "runs": [],
        "echo": [],
        "idle": None,
        "idle_baseline": None,
    }
    env = {**SERVER_ENV, "DATABASE_CONN_MAX_AGE": "600"}
    chat_server = (
        Server("asgi", workers=args.workers, database_url=args.database_url, redis_url=args.redis_url, env=env, app=APP)
        if args.only != "idle"
        else nullcontext()
    )
    with chat_server as server:
        headers = cookie_headers([m for room in rooms for m in room["members"]], server.url) if server else {}
        for echo in (True, False) if args.echo_clients and server else ():
            figures = asyncio.run(
                echo_run(server, rooms, headers, n=args.echo_clients, room_size=args.room_size,
                         seconds=args.echo_seconds, echo=echo)
            )  # fmt: skip
            print(f"{figures['kind']}: {figures}", flush=True)
            result["echo"].append(figures)
        for n, rate in zip(client_counts, rates) if server else ():
            pair = {"product": None, "baseline": None}
            for baseline in [side == "baseline" for side in ("baseline", "product") if args.only in (None, side)]:
                figures = asyncio.run(
                    chat_run(server, rooms, headers, n=n, room_size=args.room_size, room_rate=rate,
                             seconds=args.seconds, drain=args.drain, baseline=baseline)
                )  # fmt: skip
                print(f"{figures['kind']}: {figures}", flush=True)
                pair["baseline" if baseline else "product"] = figures
            product, base = pair["product"], pair["baseline"]
            pair["throughput_ratio"] = (
                round(product["delivered_per_second"] / base["delivered_per_second"], 2)
                if product and base and base["delivered_per_second"]
                else None
            )
            result["runs"].append(pair)
        server_log = server.output(2000).strip() if server else ""
    if server_log:
        print("server log (tail):\n" + server_log)
    if args.idle:
        with Server("asgi", workers=1, database_url=args.database_url, redis_url=args.redis_url,
                    env=env, app=APP) as server:  # fmt: skip
            headers = cookie_headers([m for room in rooms for m in room["members"]], server.url)
            result["idle"] = asyncio.run(idle_run(server, rooms, headers, n=args.idle, room_size=args.room_size))
            print(f"idle: {result['idle']}", flush=True)
        if args.only != "product":  # the bare socket's cost on a fresh worker, measured the same way
            with Server("asgi", workers=1, database_url=args.database_url, redis_url=args.redis_url,
                        env=env, app=APP) as server:  # fmt: skip
                result["idle_baseline"] = asyncio.run(
                    idle_run(server, rooms, headers, n=args.idle, room_size=args.room_size, baseline=True)
                )
                print(f"idle baseline: {result['idle_baseline']}", flush=True)

    report(result)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwritten to {args.json}")
    return result


def report(result: dict) -> None:
    print()
    rows = []
    for pair in result["runs"]:
        some = pair["product"] or pair["baseline"]
        empty = dict.fromkeys(["stored", "delivered_per_second", "p50_ms", "p99_ms", "lost"], "-")
        p, b = pair["product"] or empty, pair["baseline"] or empty
        rows.append([
            f"{some['clients']} clients, {some['room_rate']:g}/s a room", some["clients"], some["rooms"],
            some["sent_per_second"], f"{p['stored']}/{some['sent']}", p["delivered_per_second"], p["p50_ms"],
            p["p99_ms"], p["lost"], b["delivered_per_second"], b["p50_ms"], b["p99_ms"], b["lost"],
            pair["throughput_ratio"],
        ])  # fmt: skip
    print_table(
        ["run", "clients", "rooms", "sent/s", "stored/sent", "delivered/s", "p50 ms", "p99 ms", "lost",
         "base deliv/s", "base p50", "base p99", "base lost", "ratio"],
        rows,
    )  # fmt: skip
    if result["echo"]:
        print()
        print_table(
            ["round trip", "clients", "round trips", "p50 ms", "p99 ms"],
            [[e["kind"], e["clients"], e["round_trips"], e["p50_ms"], e["p99_ms"]] for e in result["echo"]],
        )
    for label, idle in (("idle", result["idle"]), ("idle bare", result["idle_baseline"])):
        if idle:
            print(
                f"\n{label}: {idle['sockets']} sockets on one worker ({idle['answering']} answering): RSS "
                f"{idle['rss_before_mb']} → {idle['rss_after_mb']} MB (+{idle['rss_delta_mb']} MB, "
                f"{idle['kib_per_socket']} KiB a socket)"
            )


if __name__ == "__main__":
    main()
