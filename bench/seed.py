"""Fill a PostgreSQL bench database with N cases and everything around them, fast.

    .venv/bin/python bench/seed.py --cases 100000 [--reset] [--database-url postgres://...]

The database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/desk_bench) is created
when missing and migrated. Rows go in with COPY (psycopg 3 `cursor.copy`), bypassing the
services on purpose: each case is walked along a real path of its state machine (filed, offer,
escalation, decision, appeal, close ...) and written with the fields, offers, decisions, refunds,
messages, notifications and history rows that path leaves behind, so pages and the API read
consistent data. Known logins (password `bench-pass-2026`) and API tokens are printed and
written to bench/results/seed.json. Not a test: it writes fake data into the database it is given.

This file is the command and the load that ties the parts together: `bench/seed_people.py` (people
and policies), `bench/seed_cases.py` (each case's rows), `bench/seed_copy.py` (the COPY loader).
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import timezone as dt_timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.seed_cases import CaseRows  # noqa: E402
from bench.seed_copy import Ids, detach_indexes, reset_sequences  # noqa: E402
from bench.seed_people import PASSWORD, seed_people, seed_policies  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/desk_bench"
CHUNK = 20_000  # cases per transaction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--reset", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seed", type=int, default=7, help="random seed (same data every run)")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/seed.json")
    return parser.parse_args(argv)


def prepare_database(url: str, reset: bool) -> None:
    """Create (or drop and recreate) the bench database, talking to the server's `postgres` db."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench/seed.py needs a PostgreSQL DATABASE_URL (it uses COPY).")
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if reset:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace_support.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 50)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    import django

    django.setup()


def main(argv=None) -> dict:
    args = parse_args(argv)
    prepare_database(args.database_url, args.reset)
    setup_django(args.database_url)

    from django.core.management import call_command

    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - began
    result = load(cases=args.cases, rng=random.Random(args.seed))
    result["migrate_seconds"] = round(migrated, 1)
    print_table(result)
    if not args.no_json:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "seed.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwritten to {RESULTS / 'seed.json'}")
    return result


def print_table(result: dict) -> None:
    print(
        f"\n{result['cases']:,} cases on {result['database']} in {result['seconds']} s "
        f"({result['rows_per_second']:,} rows/s); database size {result['database_size']}\n"
    )
    print(f"{'table':40} {'rows':>12}")
    for table, rows in result["rows"].items():
        print(f"{table:40} {rows:12,}")
    print(f"{'total':40} {result['total_rows']:12,}")
    print("\nlogins (password: %s)" % result["password"])
    for role, name in result["logins"].items():
        print(f"  {role:8} {name}")
    print("API tokens (Authorization: Token <key>)")
    for name, key in result["tokens"].items():
        print(f"  {name:20} {key}")
    print(f"sample case of bench-buyer: {result['sample']['buyer_case']}")


def load(*, cases: int, rng: random.Random) -> dict:
    """Seed people, policies and `cases` cases in one transaction; the figures and logins."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now().astimezone(dt_timezone.utc)
    began = time.perf_counter()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor underneath
        cast = seed_people(cursor, cases=cases, now=now)
        rules = seed_policies(admin=cast.admin, now=now)
        writer = CaseRows(cast=cast, rules=rules, ids=Ids(cursor), rng=rng, now=now)
        tables = writer.tables.values()
        plan = writer.plan_parties(cases)
        # One transaction: a failed load leaves the schema and the data as they were.
        with transaction.atomic():
            rebuild = detach_indexes(cursor, [t.name for t in tables])
            for start in range(0, cases, CHUNK):
                for i in range(start, min(start + CHUNK, cases)):
                    writer.one_case(i, *plan[i])
                for table in tables:
                    table.flush(cursor)
                print(f"  {min(start + CHUNK, cases):>10,} cases  {time.perf_counter() - began:7.1f} s", flush=True)
            loaded = time.perf_counter()
            for statement in rebuild:
                cursor.execute(statement)
            print(f"  indexes and constraints rebuilt and checked in {time.perf_counter() - loaded:.1f} s")
        reset_sequences(cursor, tables)
        seeded = time.perf_counter() - began
        cursor.execute("ANALYZE")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM disputes_case WHERE buyer_id = %s ORDER BY id LIMIT 1", [cast.buyer.pk])
        sample = cursor.fetchone()[0]
    rows = {"auth_user (and people)": cast.rows}
    rows.update({t.name: t.total for t in tables})
    total = sum(rows.values())
    return {
        "cases": cases,
        "database": connection.settings_dict["NAME"],
        "seconds": round(seeded, 1),
        "rows_per_second": int(total / seeded) if seeded else 0,
        "database_size": size,
        "rows": rows,
        "total_rows": total,
        "password": PASSWORD,
        "logins": {
            "buyer": "bench-buyer",
            "seller": "bench-seller",
            "agent": "bench-agent",
            "senior": "bench-senior",
            "admin": "bench-admin",
        },
        "tokens": cast.tokens,
        "sample": {"buyer_case": f"MS-{sample:06d}"},
    }


if __name__ == "__main__":
    main()
