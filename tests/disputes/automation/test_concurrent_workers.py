"""Two hosts run `manage.py process_deadlines` at the same moment over 500 due cases.

The cases are filed ten days ago (time-machine, in this process), so in the workers, which run on
the real clock, every seller deadline has passed. One case in five is a non-delivery within the
automatic limit and resolves by rule with a refund; the others go to an agent. Both workers are
held at their first read of the case table by a lock this test takes, and let go together. Each
due case must be handled by exactly one of them: one history row for the step, one announcement,
one refund instruction sent once.
"""

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Count
from django.utils import timezone

from disputes import services
from disputes.models import Case, Decision, Notification, Order, RefundInstruction
from disputes.ratelimits import rate_limits_suspended
from disputes.services import cases as cases_service
from tests import factories

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "needs PostgreSQL: two worker processes share the test database and take rows with "
            f"SELECT ... FOR UPDATE SKIP LOCKED; the database is {connection.vendor} "
            "(set DATABASE_URL to a PostgreSQL database)"
        ),
    ),
    pytest.mark.django_db(transaction=True),
]

CASES = 500
BY_RULE_EVERY = 5  # one case in five resolves by rule with a refund
WORKER_TIMEOUT = 90
ESCALATED = "The seller did not answer in time"
RESOLVED_BY_RULE = "Automatic decision: Full refund. Rule: Item not received, no delivery scan, seller silent"
SUMMARY = re.compile(r"^Deadlines processed in \d+\.\ds: (?P<done>.+)\.$")


def database_url() -> str:
    """The test database pytest-django created, for processes started from here."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials + '@' if credentials else ''}{host}/{db['NAME']}"


def file_due_cases(time_machine, monkeypatch) -> tuple[list[int], list[int]]:
    """File the cases ten days ago: their 72-hour seller deadline passed a week ago.

    Filing goes through the service (pinned policy, deadlines); its notices to the sellers are
    not under test here and are left out to keep the set-up quick."""
    time_machine.move_to(timezone.now() - timedelta(days=10), tick=False)
    factories.dispute_policy(auto_resolve_limit=Decimal("100.00"))
    buyer, seller = factories.UserFactory(username="busy_buyer"), factories.UserFactory(username="busy_seller")
    now = timezone.now()
    by_rule = [index % BY_RULE_EVERY == 0 for index in range(CASES)]
    orders = Order.objects.bulk_create(
        Order(
            external_id=f"BULK-{index:04d}",
            buyer=buyer,
            seller=seller,
            item_title="Walnut desk lamp",
            amount=Decimal("80.00"),
            currency="EUR",
            status=Order.Status.SHIPPED if no_scan else Order.Status.DELIVERED,
            placed_at=now - timedelta(days=5),
            shipped_at=now - timedelta(days=3),
            delivered_at=None if no_scan else now - timedelta(days=1),
        )
        for index, no_scan in enumerate(by_rule)
    )
    with transaction.atomic(), monkeypatch.context() as quiet, rate_limits_suspended():
        quiet.setattr(cases_service, "announce", lambda event: None)
        cases = [
            services.case_file(
                buyer=buyer,
                order=order,
                reason="not_received" if no_scan else "not_as_described",
                requested_outcome="full_refund",
                amount_claimed=Decimal("80.00"),
                description="Nothing arrived." if no_scan else "The shade is cracked.",
            )
            for order, no_scan in zip(orders, by_rule, strict=True)
        ]
    time_machine.move_to(timezone.now() + timedelta(days=10), tick=False)
    return (
        [case.pk for case, no_scan in zip(cases, by_rule, strict=True) if no_scan],
        [case.pk for case, no_scan in zip(cases, by_rule, strict=True) if not no_scan],
    )


def start_worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PAYMENT_ADAPTER": "disputes.payments.RecordingAdapter",
        "PAYMENT_WEBHOOK_URL": "",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "process_deadlines", "--batch-size", "50"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_both_wait_on(table: str, workers, cursor, timeout: float = 60) -> None:
    pids = {worker.pid for worker in workers}
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        for worker in workers:
            assert worker.poll() is None, f"a worker stopped early: {worker.communicate()}"
        # pg_locks is live (pg_stat_activity would be a snapshot taken once per transaction).
        cursor.execute("SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [table])
        waiting = {row[0] for row in cursor.fetchall()}
        # Those are the workers' database backends, not the worker processes: count them.
        if len(waiting) >= len(pids):
            return
        time.sleep(0.05)
    raise AssertionError(f"the workers never both reached {table}")


def counts(summary: str) -> dict[str, int]:
    if summary == "nothing due":
        return {}
    return {name: int(number) for number, name in (part.split(" ", 1) for part in summary.split(", "))}


def test_process_deadlines_on_two_hosts_at_once_handles_each_due_case_exactly_once(time_machine, monkeypatch):
    by_rule, to_agents = file_due_cases(time_machine, monkeypatch)
    assert (len(by_rule), len(to_agents)) == (CASES // BY_RULE_EVERY, CASES - CASES // BY_RULE_EVERY)

    # Hold both workers at their first look at the cases, then let them go at the same moment.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE disputes_case IN ACCESS EXCLUSIVE MODE")
        workers = [start_worker(), start_worker()]
        try:
            wait_until_both_wait_on("disputes_case", workers, cursor)
        except BaseException:
            for worker in workers:
                worker.kill()
            raise
    try:
        outputs = [worker.communicate(timeout=WORKER_TIMEOUT) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    connections.close_all()

    done = []
    for worker, (stdout, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr
        assert "Traceback" not in stderr and "Error" not in stderr and "ERROR" not in stderr, stderr
        [line] = stdout.strip().splitlines()
        match = SUMMARY.match(line)
        assert match, stdout
        done.append(counts(match["done"]))
    assert sum(d.get("escalated", 0) for d in done) == len(to_agents)
    assert sum(d.get("resolved by rule", 0) for d in done) == len(by_rule)
    assert all(d for d in done), f"one worker did everything, so they did not run at once: {done}"
    assert set().union(*done) <= {"escalated", "resolved by rule"}, done

    states = dict(Case.objects.values_list("state").annotate(n=Count("pk")))
    assert states == {Case.State.ESCALATED: len(to_agents), Case.State.RESOLVED: len(by_rule)}
    steps = Case.history.filter(history_change_reason__in=[ESCALATED, RESOLVED_BY_RULE])
    per_case = dict(steps.values_list("id").annotate(n=Count("history_id")))
    assert sorted(per_case) == sorted(by_rule + to_agents)
    assert set(per_case.values()) == {1}, "a case was handled twice"
    assert set(steps.filter(id__in=by_rule).values_list("history_change_reason", flat=True)) == {RESOLVED_BY_RULE}
    assert set(steps.values_list("history_user__username", flat=True)) == {settings.SYSTEM_USERNAME}

    assert Decision.objects.filter(case__in=by_rule, rule="not_received").count() == len(by_rule)
    refunds = RefundInstruction.objects.all()
    assert sorted(refunds.values_list("case", flat=True)) == sorted(by_rule)
    assert set(refunds.values_list("status", "attempts", "amount")) == {
        (RefundInstruction.Status.SENT, 1, Decimal("80.00"))
    }
    told = Notification.objects.filter(event__in=["escalate_unanswered", "resolve_automatically"])
    assert set(told.values_list("case").annotate(n=Count("pk")).values_list("n", flat=True)) == {2}
    assert told.count() == 2 * CASES
