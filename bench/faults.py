"""Faults mid-load: Redis killed and started again, then PostgreSQL restarted, under `bench/load.py`.

    .venv/bin/python bench/faults.py [--users 20] [--seconds 40] [--postgres restart|proxy|none]

Seeds a fresh database `desk_faults`, starts a private `redis-server` (channel layer and cache)
and `Server("asgi", workers=2)`, and runs the load of `bench/load.py`. Meanwhile:

- at 25 % of the run Redis is killed (SIGKILL), and started again on the same port 5 s later;
- at 60 % PostgreSQL goes away: `restart` restarts the real cluster
  (`pg_ctlcluster --skip-systemctl-redirect <version> main restart`: every session on the machine
  is cut, so not on a machine shared with running test suites), `proxy` cuts a TCP proxy between
  the server and PostgreSQL for 3 s instead (what `tests/reliability/test_faults.py` does).

A probe reads one case through the API every half second and shows, second by second, what
answered. At the end: what failed during the faults, that the service resumed by itself, and the
checks of `bench/load.py` (nothing lost or doubled, no impossible state). Exit code 1 if the
service did not resume or anything was lost, doubled or left half-written.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Server, print_table, setup_django  # noqa: E402
from bench.load import SERVER_ENV, check, fresh_database, print_report, seed, simulate  # noqa: E402
from bench.outages import RedisServer, TcpProxy  # noqa: E402

FAULTS_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desk_faults"


def restart_postgresql() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=120)


class Probe(threading.Thread):
    """GET one case every half second; records (seconds since start, status or error name)."""

    def __init__(self, url: str, token: str, began: float, stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.token, self.began, self.stop = url, token, began, stop
        self.answers: list[tuple[float, object]] = []

    def run(self) -> None:
        import httpx

        with httpx.Client(timeout=10, headers={"Authorization": f"Token {self.token}"}) as client:
            while not self.stop.is_set():
                moment = time.monotonic() - self.began
                try:
                    status: object = client.get(self.url).status_code
                except httpx.HTTPError as error:
                    status = type(error).__name__
                self.answers.append((moment, status))
                self.stop.wait(0.5)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--postgres", choices=["restart", "proxy", "none"], default="restart")
    parser.add_argument("--database-url", default=FAULTS_DATABASE_URL)
    args = parser.parse_args(argv)

    with RedisServer() as redis:
        setup_django(args.database_url, redis.url)
        print(f"Fresh database {args.database_url}, private Redis {redis.url}, {args.users} users ...")
        fresh_database(args.database_url)
        population = seed(args.users, prefix="faults")
        server_database_url = args.database_url
        proxy = None
        if args.postgres == "proxy":
            proxy = TcpProxy(5432).__enter__()
            server_database_url = args.database_url.replace(":5432/", f":{proxy.port}/")
        events: list[tuple[float, str]] = []
        try:
            with Server(
                "asgi", workers=2, database_url=server_database_url, redis_url=redis.url, env=SERVER_ENV
            ) as server:
                began = time.monotonic()
                stop = threading.Event()
                watched = next(p for p in population.people if p.role == "buyer")
                probe = Probe(f"{server.url}/api/v1/cases/{watched.room}/", watched.token, began, stop)

                def note(what: str) -> None:
                    events.append((round(time.monotonic() - began, 1), what))
                    print(f"  t={events[-1][0]:>5} s  {what}", flush=True)

                def faults() -> None:
                    time.sleep(args.seconds * 0.25)
                    note("Redis killed")
                    redis.kill()
                    time.sleep(5)
                    redis.start()
                    note("Redis started again")
                    time.sleep(max(0.0, args.seconds * 0.60 - (time.monotonic() - began)))
                    if args.postgres == "restart":
                        note("PostgreSQL restarting")
                        restart_postgresql()
                        note("PostgreSQL restarted")
                    elif args.postgres == "proxy":
                        note("PostgreSQL cut (proxy)")
                        proxy.cut()
                        time.sleep(3)
                        proxy.restore()
                        note("PostgreSQL back (proxy)")

                probe.start()
                fault_thread = threading.Thread(target=faults, daemon=True)
                fault_thread.start()
                traffic = asyncio.run(
                    simulate(population, base_url=server.url, ws_url=server.ws_url, seconds=args.seconds)
                )
                fault_thread.join(120)
                time.sleep(2)
                stop.set()
                probe.join(15)
                resumed = probe.answers[-3:]
                log = server.output(10**8)
        finally:
            if proxy is not None:
                proxy.cut()

        from django.db import connections

        connections.close_all()  # the bench's own connection may predate a restart
        report = check(traffic, allow_transport_errors=True)

    print("\nProbe (GET one case every 0.5 s), per second:")
    seconds = Counter()
    for moment, status in probe.answers:
        seconds[(int(moment), status)] += 1
    failing = sorted({s for (s, status) in seconds if status != 200})
    print_table(
        ["second", "answers"],
        [[s, ", ".join(f"{st}×{n}" for (sec, st), n in sorted(seconds.items(), key=str) if sec == s)] for s in failing]
        or [["-", "every probe answered 200"]],
    )
    print("\nFaults:", "; ".join(f"t={t} s {what}" for t, what in events))
    errors = Counter(line.strip() for line in log.splitlines() if re.match(r"^[\w.]+(Error|Exception): ", line))
    print("\nErrors in the server log (first line of each, by count):")
    print_table(["count", "error"], [[n, line[:110]] for line, n in errors.most_common(12)] or [[0, "-"]])
    print_report(traffic, report, verdict=False)
    service_resumed = bool(resumed) and all(status == 200 for _, status in resumed)
    print("\nService resumed by itself:", "yes" if service_resumed else "NO", f"(last probes: {resumed})")
    data_ok = not (
        report.messages["lost"]
        or report.messages["doubled"]
        or report.messages["refused but stored"]
        or report.messages["error answer but stored"]
        or [v for v in report.violations if not v.startswith("not delivered")]
    )
    print("Nothing lost, doubled or half-written:", "yes" if data_ok else "NO")
    return 0 if service_resumed and data_ok else 1


if __name__ == "__main__":
    sys.exit(main())
