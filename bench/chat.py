"""Live chat under load: case rooms over WebSockets on the Redis channel layer, beside a bare
broadcast baseline on the same server.

    .venv/bin/python bench/chat.py                       # 100 and 500 clients, rooms of 10, 10 msgs/s a room
    .venv/bin/python bench/chat.py --clients 50 --seconds 5 --idle 200    # a quick look

The bench database (default postgres://postgres@127.0.0.1:5432/desk_chat) is created when
missing and migrated; users and cases are made through the services. Each room is one case:
its buyer, its seller and agents up to the room size. Clients are signed in with session
cookies and connect to /ws/cases/<reference>/ on `Server("asgi", workers=2)`, so the sockets of
one room spread over both worker processes and meet on Redis; how many each worker took is
reported (the kernel splits them unevenly: 58/42 of 100 is common), and `--layout ports` serves
each process on a port of its own with the sockets spread evenly (`bench.harness.Servers`). Every client sends
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

Not a test: it writes users, cases and messages into the database it is given. The rooms (database,
users, cases, cookies) are made in `bench.chat_rooms`, the sockets are `bench.chat_clients` and
the tables are printed by `bench.chat_report`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chat_clients import make_clients, open_all  # noqa: E402
from bench.chat_report import report  # noqa: E402
from bench.chat_rooms import cookie_headers, ensure_rooms, prepare_database  # noqa: E402
from bench.harness import (  # noqa: E402
    PROJECT_ROOT,
    Server,
    Servers,
    cpu_seconds,
    percentile,
    rss_kib,
    setup_django,
)

RESULTS = PROJECT_ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desk_chat"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
APP = "bench.asgi:application"
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
    parser.add_argument("--workers", type=int, default=2, help="socket server processes")
    parser.add_argument(
        "--layout",
        choices=["shared", "ports"],
        default="shared",
        help="shared: one uvicorn --workers N, the kernel spreading the sockets; ports: one uvicorn a process, "
        "each on its own port, the sockets spread evenly over them (as a least-connections proxy does)",
    )
    parser.add_argument(
        "--only", choices=["product", "baseline", "idle"], help="skip the other side of each run, or all but idle"
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--json", default=str(RESULTS / "chat.json"), help="where to write the figures ('' for none)")
    return parser.parse_args(argv)


# Runs: each opens its clients on a running server, measures, and returns its figures.


def endpoint(baseline: bool) -> str:
    return "broadcast" if baseline else "case"


async def chat_run(server: Server, rooms, headers, *, n, room_size, room_rate, seconds, drain, baseline) -> dict:
    tag = f"{'b' if baseline else 'p'}{int(time.time() * 1000) % 10**9}x{n}"
    clients = make_clients(server.ws_urls, rooms, headers, n, room_size, endpoint(baseline))
    connect_seconds = await open_all(clients)
    await asyncio.sleep(1.0)  # presence announcements and replays settle before the clock starts
    for client in clients:
        client.received.clear()
        client.errors.clear()
    members = min(room_size, n)
    rate = room_rate / members
    start = time.monotonic() + 0.5
    stop = start + seconds
    workers = server.worker_pids()
    cpu_before = cpu_seconds(workers)
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
    worker_cpu = cpu_seconds(workers) - cpu_before
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
        "sockets_per_process": process_split(clients),
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
        # The workers' CPU a message sent, delivery to the whole room included: steadier than the
        # latencies on a machine whose speed changes, so it shows what a change saved.
        "worker_cpu_ms_per_message": round(worker_cpu * 1000 / sent, 2) if sent else None,
        "errors": dict(errors),
        "settle_seconds": None if baseline else round(settled, 1),
    }


def process_split(clients) -> list[int]:
    """How many of the sockets each worker took, most first: a worker with more of them has more
    of the messages to store and deliver."""
    counts: dict[str | None, int] = defaultdict(int)
    for client in clients:
        counts[client.process] += 1
    return sorted(counts.values(), reverse=True)


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
    clients = make_clients(server.ws_urls, rooms, headers, n, room_size, "echo" if echo else "case")
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
    warm = make_clients(server.ws_urls, rooms, headers, room_size, room_size, endpoint(baseline))
    await open_all(warm)
    await asyncio.sleep(1.0)
    await asyncio.gather(*(c.close() for c in warm))
    await asyncio.sleep(1.0)
    before = rss_kib(worker)
    clients = make_clients(server.ws_urls, rooms, headers, n, room_size, endpoint(baseline))
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
        "layout": f"{args.workers} processes, " + ("a port each" if args.layout == "ports" else "one shared port"),
        "runs": [],
        "echo": [],
        "idle": None,
        "idle_baseline": None,
    }
    env = {**SERVER_ENV, "DATABASE_CONN_MAX_AGE": "600"}
    options = {"database_url": args.database_url, "redis_url": args.redis_url, "env": env, "app": APP}
    if args.only == "idle":
        chat_server = nullcontext()
    elif args.layout == "ports":
        chat_server = Servers(args.workers, **options)
    else:
        chat_server = Server("asgi", workers=args.workers, **options)
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


if __name__ == "__main__":
    main()
