"""Pages and API under load, beside a baseline page of the same size, on 1k, 100k and 1M cases.

    .venv/bin/python bench/pages.py [--cases 1000,100000,1000000] [--servers asgi,wsgi]
                                    [--seconds 5] [--concurrency 8]

Each case count has its own PostgreSQL database (desk_pages_1k, desk_pages_100k, desk_pages_1m),
filled by bench/seed.py the first time (`--reseed` fills it again), migrated and analysed. Every
server kind asked for (uvicorn for "asgi", gunicorn for "wsgi"; two workers each) serves it
at once, and under the same closed-loop load, in short slices taken in turn (`--rounds`), we measure

    queue      /console/              as bench-agent      vs /bench/baseline/?rows=<rows shown>
    my-cases   /cases/                as bench-buyer      vs /bench/baseline/?rows=<rows shown>
    case-page  /cases/<reference>/    as bench-buyer      vs /bench/baseline/?rows=<entries shown>
    api-list   /api/v1/cases/         the marketplace's token (every case, newest first)
                                                          vs /bench/baseline.json?rows=<rows shown>

Each baseline gets `&bytes=<size of our answer>`: the same rows, read from one table, rendered by
the same engine (templates or JSON) and padded to the same size, with no sign-in and no logic.

The ratio is our throughput over the baseline's, measured side by side in the same run, so it
means something on a busy machine where the absolute figures do not. Targets (issue 9): queue and
API list at least half the baseline's throughput, latency flat from 1k to 1M cases. With two
servers, the second table gives WSGI's throughput over ASGI's per page.

Prints the tables and writes bench/results/pages.json (`--json`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    DEFAULT_REDIS_URL,
    LoadFigures,
    PROJECT_ROOT,
    Server,
    http_load,
    print_table,
    session_cookies,
    setup_django,
)

RESULTS = PROJECT_ROOT / "bench" / "results"
SERVER_ROOT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PAGES = ["queue", "my-cases", "case-page", "api-list"]


def size_label(cases: int) -> str:
    if cases >= 1_000_000 and cases % 1_000_000 == 0:
        return f"{cases // 1_000_000}m"
    if cases >= 1000 and cases % 1000 == 0:
        return f"{cases // 1000}k"
    return str(cases)


def database_url(cases: int) -> str:
    return urlunsplit(urlsplit(SERVER_ROOT_URL)._replace(path=f"/desk_pages_{size_label(cases)}"))


def seeded_cases(url: str) -> int | None:
    """How many cases the database holds, or None when it does not exist or holds no bench data."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            known = conn.execute("SELECT count(*) FROM auth_user WHERE username = 'bench-buyer'").fetchone()[0]
            return conn.execute("SELECT count(*) FROM disputes_case").fetchone()[0] if known else None
    except psycopg.Error:
        return None


def prepare(cases: int, *, reseed: bool) -> str:
    """The database for `cases`, seeded, migrated (new indexes included) and analysed."""
    url = database_url(cases)
    if reseed or seeded_cases(url) != cases:
        print(f"seeding {cases:,} cases into {url} (bench/seed.py) ...", flush=True)
        subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "bench" / "seed.py"), "--cases", str(cases), "--reset",
             "--no-json", "--database-url", url],
            check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], check=True, cwd=PROJECT_ROOT, env=env)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


# One case count, in a process of its own (Django is set up once per process, on one database).


def rows_shown(page: str, body: str) -> int:
    if page == "api-list":
        return len(json.loads(body)["results"])
    if page == "case-page":
        return len(re.findall(r'<li class="entry ', body))
    return len(re.findall(r'class="card case-row', body))


def merged(slices: list[LoadFigures]) -> LoadFigures:
    """One figure from interleaved slices: throughput over the whole time; p50 the slices' medians
    weighted by their requests; p99 the worst slice's."""
    requests = sum(f.requests for f in slices)
    seconds = sum(f.seconds for f in slices)
    answered = [f for f in slices if f.requests]
    return LoadFigures(
        requests=requests,
        errors=sum(f.errors for f in slices),
        seconds=round(seconds, 2),
        rps=round(requests / seconds, 1) if seconds else 0.0,
        p50_ms=round(sum(f.p50_ms * f.requests for f in answered) / requests, 2) if requests else float("nan"),
        p99_ms=max((f.p99_ms for f in answered), default=float("nan")),
    )


def measure_one_size(args) -> dict:
    """Every server runs at once (idle ones cost nothing); for each page, short slices of load go
    round-robin over (server, ours / baseline), so a change in the machine's other work between
    slices falls on all of them alike."""
    import httpx

    setup_django(args.database_url, args.redis_url)
    from rest_framework.authtoken.models import Token

    from disputes.models import Case

    agent = session_cookies("bench-agent")
    buyer = session_cookies("bench-buyer")
    token = Token.objects.get(user__username="bench-marketplace").key
    latest = Case.objects.filter(buyer__username="bench-buyer").order_by("-filed_at", "-pk").first()
    targets = {
        "queue": ("/console/", {"cookies": agent}),
        "my-cases": ("/cases/", {"cookies": buyer}),
        "case-page": (latest.get_absolute_url(), {"cookies": buyer}),
        "api-list": ("/api/v1/cases/", {"headers": {"Authorization": f"Token {token}"}}),
    }
    slice_seconds = args.seconds / args.rounds
    results = []
    with ExitStack() as stack:
        servers = {
            kind: stack.enter_context(
                Server(
                    kind, workers=args.workers, database_url=args.database_url, redis_url=args.redis_url,
                )
            )
            for kind in args.servers
        }  # fmt: skip
        for page in PAGES:
            path, auth = targets[page]
            runs = {}
            for kind, server in servers.items():
                probe = httpx.get(server.url + path, timeout=30, **auth)
                if probe.status_code != 200:
                    raise RuntimeError(f"{page}: {path} answered {probe.status_code}\n{server.output()}")
                rows = rows_shown(page, probe.text)
                base = "/bench/baseline.json" if page == "api-list" else "/bench/baseline/"
                base += f"?rows={rows}&bytes={len(probe.content)}"
                runs[(kind, "ours")] = (server.url + path, auth, [])
                runs[(kind, "baseline")] = (server.url + base, {}, [])
            for round_ in range(args.rounds):
                for url, auth, slices in runs.values():
                    slices.append(asyncio.run(http_load(
                        url, seconds=slice_seconds, concurrency=args.concurrency, warmup=2 if round_ == 0 else 0, **auth
                    )))  # fmt: skip
            for kind in servers:
                ours, base = merged(runs[(kind, "ours")][2]), merged(runs[(kind, "baseline")][2])
                results.append({
                    "server": kind, "page": page, "path": path, "cases": args.size, "rows": rows,
                    "ours": ours.as_dict(), "baseline": base.as_dict(),
                    "ratio": round(ours.rps / base.rps, 2) if base.rps else None,
                })  # fmt: skip
                print(f"  {kind} {page:9} {args.size:>9,} cases: {ours.rps:7.1f} rps vs baseline {base.rps:7.1f}",
                      flush=True)  # fmt: skip
                if ours.errors or base.errors:
                    results[-1]["server_log"] = servers[kind].output(3000)
                    print(results[-1]["server_log"], flush=True)
    return {"cases": args.size, "results": results}


def run_size(args, cases: int, url: str) -> dict:
    """Measure one case count in a child process; its result comes back as JSON on a file."""
    out = RESULTS / f".pages-{size_label(cases)}.json"
    command = [
        sys.executable, __file__, "--measure-size", str(cases), "--database-url", url,
        "--redis-url", args.redis_url, "--servers", ",".join(args.servers), "--seconds", str(args.seconds),
        "--concurrency", str(args.concurrency), "--rounds", str(args.rounds), "--workers", str(args.workers),
        "--out", str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=PROJECT_ROOT)
    data = json.loads(out.read_text())
    out.unlink()
    return data


def report(runs: list[dict], servers: list[str]) -> None:
    rows = []
    for run in runs:
        for r in run["results"]:
            o, b = r["ours"], r["baseline"]
            rows.append([r["server"], r["page"], f"{r['cases']:,}", r["rows"], o["rps"], o["p50_ms"], o["p99_ms"],
                         b["rps"], b["p50_ms"], b["p99_ms"], r["ratio"], o["errors"] + b["errors"]])  # fmt: skip
    print()
    print_table(
        ["server", "page", "cases", "rows", "rps", "p50 ms", "p99 ms", "base rps", "base p50", "base p99",
         "ours/base", "errors"],
        rows,
    )  # fmt: skip
    if len(servers) < 2:
        return
    print()
    first, second = servers[0], servers[1]
    rows = []
    for run in runs:
        by = {(r["server"], r["page"]): r for r in run["results"]}
        for page in PAGES:
            a, b = by[(first, page)], by[(second, page)]
            rows.append([page, f"{run['cases']:,}", a["ours"]["rps"], b["ours"]["rps"],
                         round(b["ours"]["rps"] / a["ours"]["rps"], 2) if a["ours"]["rps"] else None,
                         a["ours"]["p50_ms"], b["ours"]["p50_ms"]])  # fmt: skip
    print_table(
        ["page", "cases", f"{first} rps", f"{second} rps", f"{second}/{first}", f"{first} p50", f"{second} p50"], rows
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="1000,100000,1000000", help="case counts, comma-separated")
    parser.add_argument("--servers", default="asgi,wsgi", help="asgi, wsgi or both, comma-separated")
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="slices each measurement is cut into, interleaved")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--reseed", action="store_true", help="seed every database again")
    parser.add_argument("--json", default=str(RESULTS / "pages.json"), help="where to write the figures ('' for none)")
    parser.add_argument("--measure-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.measure_size:
        args.size = args.measure_size
        Path(args.out).write_text(json.dumps(measure_one_size(args)))
        return
    sizes = [int(n) for n in args.cases.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    runs = []
    for cases in sizes:
        url = prepare(cases, reseed=args.reseed)
        print(f"measuring {cases:,} cases on {url}", flush=True)
        runs.append(run_size(args, cases, url))
    report(runs, args.servers)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "load_before": load_before,
                    "load_after": os.getloadavg()},
        "seconds": args.seconds, "rounds": args.rounds, "concurrency": args.concurrency, "workers": args.workers,
        "servers": args.servers, "runs": runs,
    }  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwritten to {args.json}")


if __name__ == "__main__":
    main()
