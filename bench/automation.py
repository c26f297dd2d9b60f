"""`process_deadlines` over many due cases, beside one SQL UPDATE of the same rows.

    .venv/bin/python bench/automation.py                 # 100,000 due cases
    .venv/bin/python bench/automation.py --cases 10000   # a quick look

Every case is open, the seller never answered and the answer deadline passed a day ago, under
a disputes policy with no automatic rule: the seller-deadline step escalates each one to the
platform (state, escalation time, decision target, history row, notifications, broadcast).

The cases are written once into a template database (default desk_automation_tpl, bulk_create
through the ORM, services bypassed on purpose) and each measurement runs on a fresh copy of it
(CREATE DATABASE … TEMPLATE), in the same run:
  - the real command, `manage.py process_deadlines`, in its own process with the production
    settings of the benchmark servers (Redis channel layer, emails kept in memory);
  - the limit: one UPDATE that sets what the step sets on the case row (state, escalated_at,
    agent_decision_due_at, buyer_answer_due_at, updated_at) and nothing else.
Not a test: it creates and drops databases whose names start with the template's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import BIN, PROJECT_ROOT, print_table, setup_django  # noqa: E402

RESULTS = PROJECT_ROOT / "bench" / "results"
DEFAULT_TEMPLATE_URL = "postgres://postgres@127.0.0.1:5432/desk_automation_tpl"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
CHUNK = 5_000
LIMIT_SQL = """
UPDATE disputes_case
   SET state = 'escalated', escalated_at = now(), buyer_answer_due_at = NULL,
       agent_decision_due_at = now() + make_interval(hours => %(hours)s), updated_at = now()
 WHERE state = 'open' AND seller_answered_at IS NULL AND seller_answer_due_at < now()
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=200, help="process_deadlines --batch-size")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_TEMPLATE_URL),
                        help="the template database (created, migrated and filled when it holds another count)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--reset", action="store_true", help="fill the template again")
    parser.add_argument(
        "--timeout", type=float, default=None,
        help="stop process_deadlines after this many seconds and rate what it finished (default: let it finish)",
    )  # fmt: skip
    parser.add_argument("--json", default=str(RESULTS / "automation.json"), help="where to write ('' for none)")
    return parser.parse_args(argv)


def admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_name(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def recreate(url: str, *, template: str | None = None) -> None:
    from psycopg import sql

    name = database_name(url)
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}")
            conn.execute(statement.format(sql.Identifier(name), sql.Identifier(template)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop(url: str) -> None:
    from psycopg import sql

    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url))))


def due_count(url: str) -> int | None:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            return conn.execute(
                "SELECT count(*) FROM disputes_case WHERE state = 'open' AND seller_answered_at IS NULL "
                "AND seller_answer_due_at < now()"
            ).fetchone()[0]
    except psycopg.Error:
        return None


def states(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM disputes_case GROUP BY state ORDER BY state").fetchall())


def fill_template(url: str, redis_url: str, cases: int) -> float:
    """Users, one policy, `cases` orders and due cases: bulk_create, no services."""
    from decimal import Decimal

    began = time.perf_counter()
    recreate(url)
    setup_django(url, redis_url)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone as dj_timezone

    from disputes.models import Case, Order
    from policies.models import Policy
    from policies.selectors import policy_current_version
    from policies.services import policy_save

    call_command("migrate", verbosity=0)
    now = dj_timezone.now()
    User = get_user_model()
    policy = policy_save(
        policy=Policy(slug="disputes", title="Buyer protection and disputes", kind=Policy.Kind.DISPUTES,
                      body="How cases work.", is_published=True, effective_from=now - timedelta(days=60)),
        actor=None, reason="Automation benchmark",
    )  # fmt: skip
    rules = policy_current_version(policy=policy)
    n_buyers, n_sellers = max(cases // 20, 10), max(cases // 100, 5)
    with transaction.atomic():
        User.objects.bulk_create(
            [User(username=f"auto-buyer-{i}", first_name="Bea", email=f"auto-buyer-{i}@bench.example",
                  password="!") for i in range(n_buyers)]
            + [User(username=f"auto-seller-{i}", first_name="Sam", email=f"auto-seller-{i}@bench.example",
                    password="!") for i in range(n_sellers)],
            batch_size=CHUNK,
        )  # fmt: skip
    buyers = list(User.objects.filter(username__startswith="auto-buyer-").order_by("pk").values_list("pk", flat=True))
    sellers = list(User.objects.filter(username__startswith="auto-seller-").order_by("pk").values_list("pk", flat=True))
    filed = now - timedelta(days=4)
    for start in range(0, cases, CHUNK):
        with transaction.atomic():
            stop = min(start + CHUNK, cases)
            orders = Order.objects.bulk_create(
                [
                    Order(external_id=f"AUTO-{i:07d}", buyer_id=buyers[i % len(buyers)],
                          seller_id=sellers[i % len(sellers)], item_title="Walnut desk lamp",
                          amount=Decimal("80.00"), currency="EUR", status=Order.Status.DELIVERED,
                          placed_at=filed - timedelta(days=9), shipped_at=filed - timedelta(days=7),
                          delivered_at=filed - timedelta(days=5), carrier="DHL", tracking_number=f"JD{i:07d}")
                    for i in range(start, stop)
                ],
                batch_size=CHUNK,
            )  # fmt: skip
            Case.objects.bulk_create(
                [
                    Case(order=order, buyer_id=order.buyer_id, seller_id=order.seller_id,
                         reason="not_as_described", requested_outcome="partial_refund",
                         amount_claimed=Decimal("30.00"), currency="EUR",
                         description="The lamp arrived with a cracked shade.", policy_version=rules,
                         filed_at=filed, buyer_last_active_at=filed,
                         seller_answer_due_at=now - timedelta(days=1), buyer_may_escalate_at=now - timedelta(days=1))
                    for order in orders
                ],
                batch_size=CHUNK,
            )  # fmt: skip
        print(f"  {stop:>9,} due cases  {time.perf_counter() - began:6.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()  # a template database must have no sessions to be copied
    return time.perf_counter() - began


def run_command(url: str, redis_url: str, batch_size: int, timeout: float | None) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    began = time.perf_counter()
    command = subprocess.Popen(
        [str(BIN / "python"), "manage.py", "process_deadlines", "--batch-size", str(batch_size)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        stdout, stderr = command.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        command.kill()
        command.communicate()
        wall = time.perf_counter() - began
        return {"seconds": round(wall, 2), "wall_seconds": round(wall, 2), "summary": "stopped at the timeout"}
    wall = time.perf_counter() - began
    if command.returncode != 0:
        sys.exit(f"process_deadlines failed ({command.returncode}):\n{stdout}\n{stderr[-4000:]}")
    said = re.search(r"Deadlines processed in ([\d.]+)s: (.*)\.", stdout)
    return {
        "seconds": float(said.group(1)) if said else round(wall, 2),
        "wall_seconds": round(wall, 2),  # with Django starting up
        "summary": said.group(2) if said else stdout.strip(),
    }


def run_limit(url: str, hours: int) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        began = time.perf_counter()
        updated = conn.execute(LIMIT_SQL, {"hours": hours}).rowcount
        conn.commit()
        return {"seconds": round(time.perf_counter() - began, 3), "updated": updated}


def main(argv=None) -> dict:
    args = parse_args(argv)
    template = args.database_url
    if args.reset or due_count(template) != args.cases:
        print(f"filling {database_name(template)} with {args.cases:,} due cases", flush=True)
        filled = fill_template(template, args.redis_url, args.cases)
        print(f"filled in {filled:.1f} s", flush=True)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()  # this benchmark's own database number only

    hours = 48  # the policy's agent_decision_hours (calendar hours: count_business_days is off)
    copy_url = with_name(template, database_name(template) + "_run")
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores",
        "cases": args.cases,
        "batch_size": args.batch_size,
    }
    try:
        recreate(copy_url, template=database_name(template))
        command = run_command(copy_url, args.redis_url, args.batch_size, args.timeout)
        command["states_after"] = states(copy_url)
        command["done"] = command["states_after"].get("escalated", 0)
        command["cases_per_second"] = round(command["done"] / command["seconds"], 1)
        print(f"process_deadlines: {command}", flush=True)

        recreate(copy_url, template=database_name(template))
        limit = run_limit(copy_url, hours)
        limit["states_after"] = states(copy_url)
        limit["cases_per_second"] = round(limit["updated"] / limit["seconds"], 1)
        print(f"one UPDATE: {limit}", flush=True)
    finally:
        drop(copy_url)
    result["process_deadlines"] = command
    result["single_update"] = limit
    result["ratio"] = round(command["cases_per_second"] / limit["cases_per_second"], 4)

    print()
    print_table(
        ["run", "cases", "seconds", "cases/s", "escalated after"],
        [
            ["process_deadlines", command["done"], command["seconds"], command["cases_per_second"],
             command["states_after"].get("escalated", 0)],
            ["one SQL UPDATE (limit)", args.cases, limit["seconds"], limit["cases_per_second"],
             limit["states_after"].get("escalated", 0)],
        ],
    )  # fmt: skip
    print(f"\nratio (process_deadlines / limit): {result['ratio']}  (1 / {round(1 / result['ratio'])})")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {args.json}")
    return result


if __name__ == "__main__":
    main()
