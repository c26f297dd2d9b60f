"""Time `/console/reports/` on 100,000 cases on PostgreSQL against a baseline page, in one run.

    DJANGO_DEBUG=1 BENCH_DATABASE_URL=postgres://user:pass@localhost/desk_bench .venv/bin/python bench/reports.py

Uses its own database (BENCH_DATABASE_URL, never the default one): migrates it, seeds it with
bulk_create (bypassing services: this is a bench, not a workflow), then requests each page a few
times through the test client as an agent and prints the median and worst times side by side.
Not a test: the figures depend on the machine.
"""

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
BENCH_URL = os.environ.get("BENCH_DATABASE_URL")
if not BENCH_URL or not BENCH_URL.startswith("postgres"):
    sys.exit("Set BENCH_DATABASE_URL to a PostgreSQL database kept for the bench (it is filled with fake data).")
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace_support.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disputes.models import Case, Decision, Order, Reason
from disputes.roles import SUPPORT_AGENTS
from feedback.models import SurveyResponse
from policies.models import Policy
from policies.selectors import policy_current_version
from policies.services import policy_save

CASES = int(os.environ.get("BENCH_CASES", "100000"))
SELLERS, BUYERS, BATCH, RUNS = 500, 5000, 5000, 5
OUTCOMES = ["full_refund", "partial_refund", "no_action", "replacement"]


def seed() -> tuple:
    User = get_user_model()
    if Case.objects.count() >= CASES:
        return User.objects.get(username="bench-agent"), Case.objects.count()
    from django.contrib.auth.models import Group

    now = timezone.now()
    policy = policy_save(
        policy=Policy(
            slug="bench",
            title="Bench",
            kind="disputes",
            body=".",
            is_published=True,
            effective_from=now - timedelta(days=400),
        ),
        actor=None,
        reason="bench",
    )
    version = policy_current_version(policy=policy)
    users = User.objects.bulk_create(
        [User(username=f"bench-s{i}") for i in range(SELLERS)] + [User(username=f"bench-b{i}") for i in range(BUYERS)]
    )
    sellers, buyers = users[:SELLERS], users[SELLERS:]
    agent = User.objects.create_user("bench-agent", password="x")
    agent.groups.add(Group.objects.get(name=SUPPORT_AGENTS))
    rng = random.Random(7)
    reasons = [value for value, _ in Reason.choices]
    for start in range(0, CASES, BATCH):
        count = min(BATCH, CASES - start)
        orders, cases = [], []
        for i in range(start, start + count):
            placed = now - timedelta(days=rng.uniform(1, 360))
            orders.append(
                Order(
                    external_id=f"BENCH-{i}",
                    buyer=rng.choice(buyers),
                    seller=rng.choice(sellers),
                    item_title="Bench item",
                    amount=Decimal("50.00"),
                    status="delivered",
                    placed_at=placed,
                    delivered_at=placed + timedelta(days=3),
                )
            )
        orders = Order.objects.bulk_create(orders)
        for made in orders:
            filed = made.placed_at + timedelta(days=4)
            resolved = rng.random() < 0.8
            answered = filed + timedelta(hours=rng.uniform(1, 100)) if rng.random() < 0.9 else None
            cases.append(
                Case(
                    order=made,
                    buyer_id=made.buyer_id,
                    seller_id=made.seller_id,
                    reason=rng.choice(reasons),
                    requested_outcome="full_refund",
                    amount_claimed=Decimal("50.00"),
                    currency="EUR",
                    policy_version=version,
                    state="resolved" if resolved else "open",
                    outcome=rng.choice(OUTCOMES) if resolved else "",
                    filed_at=filed,
                    seller_answer_due_at=filed + timedelta(hours=72),
                    buyer_may_escalate_at=filed,
                    seller_answered_at=answered,
                    resolved_at=filed + timedelta(hours=rng.uniform(2, 400)) if resolved else None,
                )
            )
        cases = Case.objects.bulk_create(cases)
        Decision.objects.bulk_create(
            [
                Decision(
                    case=c,
                    stage=rng.choice(["automatic", "mediation"]),
                    outcome=c.outcome,
                    rationale="bench",
                    decided_by=agent,
                    decided_at=c.resolved_at,
                )
                for c in cases
                if c.outcome and rng.random() < 0.4
            ]
        )
        SurveyResponse.objects.bulk_create(
            [
                SurveyResponse(case=c, respondent_id=c.buyer_id, score=rng.randint(1, 5), created_at=c.resolved_at)
                for c in cases
                if c.outcome and rng.random() < 0.3
            ]
        )
        print(f"seeded {start + count} cases", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return agent, Case.objects.count()


def timed(client, url) -> tuple[list[float], int]:
    client.get(url)  # warm up
    times, queries = [], 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - began)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return times, queries


def main():
    call_command("migrate", verbosity=0)
    agent, total = seed()
    client = Client()
    client.force_login(agent)
    start = (timezone.localdate() - timedelta(days=365)).isoformat()
    pages = {
        "baseline: /policies/ (one table)": "/policies/",
        "reports, last 90 days": "/console/reports/",
        "reports, 12 months": f"/console/reports/?start={start}&end={timezone.localdate()}",
        "reports, 12 months, one reason": f"/console/reports/?start={start}&end={timezone.localdate()}&reason=damaged",
    }
    print(f"\n{total} cases on {connection.vendor}; {RUNS} runs each after a warm-up\n")
    print(f"{'page':45} {'median ms':>10} {'worst ms':>10} {'queries':>8}")
    for label, url in pages.items():
        times, queries = timed(client, url)
        print(f"{label:45} {statistics.median(times) * 1000:10.1f} {max(times) * 1000:10.1f} {queries:8}")


if __name__ == "__main__":
    main()
