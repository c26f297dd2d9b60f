"""What `process_deadlines` costs per case, and that one broken case costs the others nothing.

These run with real commits (`transaction=True`): what follows each case's commit (notices,
webhooks, live updates) runs as in a real run, inside the batch, and is counted with it.
"""

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disputes.models import Case, Notification, WebhookEndpoint
from disputes.services import cases as cases_service
from disputes.services.deadlines import process_deadlines
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

# Statements per escalated case: BEGIN, the row lock, the update, its history row, the lock of the
# agents for automatic assignment, COMMIT; what follows the commit is shared by the batch (was 36).
STATEMENTS_PER_CASE = 6


@pytest.fixture
def policy(clock):
    """No reminders, and decision targets far enough off that a second run has only escalations."""
    return factories.dispute_policy(reminder_hours=0, agent_decision_hours=1000)


def file_due_cases(clock, count: int) -> list[Case]:
    """`count` cases of different buyers and sellers, their seller deadline just passed."""
    cases = [factories.case(order_=factories.order()) for _ in range(count)]
    clock.just_after(max(case.seller_answer_due_at for case in cases))
    return cases


def statements_to_escalate(clock, count: int) -> int:
    file_due_cases(clock, count)
    with CaptureQueriesContext(connection) as queries:
        done = process_deadlines()
    assert done == Counter(escalated=count)
    return len(queries)


def test_process_deadlines_costs_the_same_few_statements_for_each_due_case(clock, policy):
    # An endpoint that wants no escalation: the endpoints are read, once per batch.
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hooks", events=[WebhookEndpoint.Event.CASE_RESOLVED_WITH_REFUND])

    one = statements_to_escalate(clock, 1)
    eleven = statements_to_escalate(clock, 11)

    assert (eleven - one) / 10 <= STATEMENTS_PER_CASE, f"{one} statements for 1 case, {eleven} for 11"
    assert Notification.objects.filter(event="escalate_unanswered").count() == 2 * 12


def test_process_deadlines_rolls_back_only_the_case_whose_step_fails(clock, policy, monkeypatch, caplog, mailoutbox):
    broken, *others = file_due_cases(clock, 3)
    assign = cases_service.assign_if_enabled

    def fails_for_the_broken_case(case, *, at):
        if case.pk == broken.pk:
            raise RuntimeError("the agents' table is unreadable")
        return assign(case, at=at)

    monkeypatch.setattr(cases_service, "assign_if_enabled", fails_for_the_broken_case)

    done = process_deadlines()

    assert done == Counter(escalated=2, failed=1)
    broken.refresh_from_db()
    assert broken.state == Case.State.OPEN
    assert broken.history.count() == 1  # filed, nothing since
    assert not Notification.objects.filter(case=broken, event="escalate_unanswered").exists()
    for case in others:
        case.refresh_from_db()
        assert case.state == Case.State.ESCALATED
        text = f"Case {case.reference} went to our team: the seller did not answer in time."
        notices = Notification.objects.filter(case=case, event="escalate_unanswered")
        assert {(notice.recipient_id, notice.text) for notice in notices} == {
            (case.buyer_id, text),
            (case.seller_id, text),
        }
        assert sorted(mail.to[0] for mail in mailoutbox if mail.subject == f"[{case.reference}] {text}") == sorted(
            [case.buyer.email, case.seller.email]
        )
    assert f"Deadline step failed for Case {broken.pk}" in caplog.text
