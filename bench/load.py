"""Load with nothing lost: simulated buyers, sellers and agents at once against two ASGI workers.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60]

Creates (drops first) the database `desk_load`, migrates it, seeds people, orders and cases through
the services, starts `Server("asgi", workers=2)` on PostgreSQL + Redis, and lets every user act at
once: buyers file cases and answer offers, sellers offer, decline or accept, agents claim from the
queue and decide, and everyone writes messages over HTTP and over WebSockets. Each user keeps a
socket open to one case room and records every message frame; a closed socket reconnects with
`?after=<last id seen>`, and a gap (a frame whose previous id was not seen) asks for a resync,
as `static/js/live-case.js` does. At the end it checks and prints:

- requests by kind and status (no 5xx, no broken connection);
- messages sent vs stored (each unique token in a body exactly once; a refused one never) vs
  delivered to every socket in the room;
- invariants of the stored cases (see `bench.load_checks.invariant_violations`).

Exit code 1 when anything is lost, doubled or wrong. `tests/reliability/test_load.py` runs the same
code, smaller, in CI.

This file is the command; the run lives beside it: `bench/load_people.py` (seeding the people),
`bench/load_scenario.py` (their journeys), `bench/load_checks.py` (the checks and the report).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# faults.py and tests/reliability import seed, simulate, check and print_report from here.
from bench.harness import Server, setup_django  # noqa: E402
from bench.load_checks import check, print_report  # noqa: E402
from bench.load_people import seed  # noqa: E402
from bench.load_scenario import simulate  # noqa: E402

LOAD_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desk_load"
LOAD_REDIS_URL = "redis://127.0.0.1:6379/4"
# The per-user limits are for people; simulated users write faster than the limits allow.
SERVER_ENV = {
    "RATE_LIMIT_MESSAGES": "100000/minute",
    "RATE_LIMIT_FILINGS": "100000/hour",
}


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
