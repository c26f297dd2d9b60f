"""`process_deadlines` reminders before each deadline, and deadlines counted in business days; the
policy and the clock as in test_process_deadlines.py (policy: conftest.py)."""

from decimal import Decimal

import pytest

from disputes import services
from disputes.models import Notification, Reminder
from tests import factories
from tests.disputes.automation.conftest import MONDAY, SECOND
from tests.disputes.automation.deadlines.helpers import (
    DAY,
    FRIDAY,
    HOUR,
    NEXT_MONDAY,
    NEXT_TUESDAY,
    S,
    edit_rules,
)
from tests.disputes.case_states import OFFERED_AMOUNT, bring_to, reload

# Reminders


def seller_answer(case, **people):
    return case, case.seller_answer_due_at, case.seller


def buyer_answer(case, **people):
    case = bring_to(S.AWAITING_BUYER, case)
    return case, case.buyer_answer_due_at, case.buyer


def return_shipping(case, **people):
    case = bring_to(S.AWAITING_RETURN, case)
    return case, case.return_due_at, case.buyer


def return_confirm(case, **people):
    case = bring_to(S.AWAITING_RETURN, case)
    services.case_mark_return_shipped(case=case, buyer=case.buyer, carrier="PostNL", tracking_number="3SABC123")
    case = reload(case)
    return case, case.return_confirm_due_at, case.seller


def agent_decision(case, *, agent):
    case = bring_to(S.IN_MEDIATION, case, agent=agent)
    return case, case.agent_decision_due_at, agent


def evidence(case, *, agent):
    """Due 36 hours out, so its reminder window opens before the decision target's."""
    case = bring_to(S.IN_MEDIATION, case, agent=agent)
    request = services.evidence_request_create(
        case=case, agent=agent, party=case.seller, note="The dispatch photo.", due_at=MONDAY + 36 * HOUR
    )
    return case, request.due_at, case.seller


REMINDERS = {
    Reminder.Kind.SELLER_ANSWER: (seller_answer, "Reminder: please answer case {ref} by {due}."),
    Reminder.Kind.BUYER_ANSWER: (
        buyer_answer,
        "Reminder: the seller is waiting for your answer on case {ref} until {due}.",
    ),
    Reminder.Kind.RETURN_SHIPPING: (return_shipping, "Reminder: send the item back for case {ref} by {due}."),
    Reminder.Kind.RETURN_CONFIRM: (
        return_confirm,
        "Reminder: confirm the returned item arrived on case {ref} by {due}, or we refund.",
    ),
    Reminder.Kind.AGENT_DECISION: (agent_decision, "Reminder: case {ref} is due for a decision by {due}."),
    Reminder.Kind.EVIDENCE: (evidence, "Reminder: we asked you for evidence on case {ref} by {due}."),
}


@pytest.mark.parametrize("kind", list(REMINDERS))
def test_process_deadlines_reminds_the_person_concerned_once_before_each_deadline(
    kind, clock, deadlines, policy, order, agent, mailoutbox
):
    edit_rules(policy, reminder_hours=24)
    bring, template = REMINDERS[kind]
    case, due, recipient = bring(factories.case(order_=order), agent=agent)
    window_opens = due - 24 * HOUR

    clock.just_before(window_opens)
    assert deadlines().summary == "nothing due"
    assert not Reminder.objects.exists()

    clock.just_after(window_opens)
    assert deadlines().summary == f"1 reminded {kind.replace('_', ' ')}"
    clock.move_to(window_opens + HOUR)
    assert deadlines().summary == "nothing due"

    reminder = Reminder.objects.get()
    assert (reminder.case, reminder.kind, reminder.due_at, reminder.recipient) == (case, kind, due, recipient)
    text = template.format(ref=case.reference, due=f"{due:%d %b %Y %H:%M} UTC")
    notes = Notification.objects.filter(event="reminder")
    assert [(note.recipient, note.case, note.text) for note in notes] == [(recipient, case, text)]
    assert [(mail.to, mail.subject) for mail in mailoutbox] == [([recipient.email], f"[{case.reference}] {text}")]


def test_process_deadlines_reminds_again_when_a_new_deadline_is_set(clock, deadlines, policy, order, seller):
    edit_rules(policy, reminder_hours=24)
    case = bring_to(S.AWAITING_BUYER, factories.case(order_=order))
    first_due = case.buyer_answer_due_at
    clock.just_after(first_due - 24 * HOUR)
    assert deadlines().summary == "1 reminded buyer answer"

    services.offer_make(case=case, seller=seller, kind="partial_refund", amount=Decimal("25.00"))
    second_due = reload(case).buyer_answer_due_at
    clock.just_after(second_due - 24 * HOUR)
    assert deadlines().summary == "1 reminded buyer answer"
    assert deadlines().summary == "nothing due"

    assert sorted(Reminder.objects.values_list("due_at", flat=True)) == [first_due, second_due]
    assert Notification.objects.filter(event="reminder", recipient=case.buyer).count() == 2


def test_process_deadlines_sends_no_reminders_when_the_pinned_policy_turns_them_off(
    clock, deadlines, open_case, mailoutbox
):
    clock.just_after(open_case.seller_answer_due_at - 24 * HOUR)

    assert deadlines().summary == "nothing due"
    assert not Reminder.objects.exists()
    assert mailoutbox == []


# Business days


@pytest.mark.parametrize(("holidays", "due"), [("", NEXT_MONDAY), ("2026-03-09", NEXT_TUESDAY)])
def test_process_deadlines_in_business_days_does_not_act_early_over_a_weekend_or_holiday(
    holidays, due, clock, deadlines, policy, order
):
    clock.move_to(FRIDAY)
    edit_rules(policy, count_business_days=True, holidays=holidays, seller_answer_hours=24)
    case = factories.case(order_=order)
    assert case.seller_answer_due_at == due

    for moment in [FRIDAY + DAY + SECOND, FRIDAY + 2 * DAY, due - SECOND]:
        clock.move_to(moment)
        assert deadlines().summary == "nothing due", moment
        assert reload(case).state == S.OPEN

    clock.just_after(due)
    assert deadlines().summary == "1 escalated"
    case = reload(case)
    assert case.state == S.ESCALATED
    # The agents' target is counted in business days too: two more working days.
    assert case.agent_decision_due_at == due + SECOND + 2 * DAY


def test_process_deadlines_counts_buyer_inactivity_in_business_days(clock, deadlines, policy, order, seller):
    clock.move_to(FRIDAY)
    edit_rules(policy, count_business_days=True, buyer_inactivity_days=1, offer_response_hours=30 * 24)
    case = factories.case(order_=order)
    services.offer_make(case=case, seller=seller, kind="partial_refund", amount=OFFERED_AMOUNT)

    # A calendar day has passed on Saturday: a candidate for the query, refused by the rule.
    for moment in [FRIDAY + DAY + SECOND, NEXT_MONDAY - SECOND]:
        clock.move_to(moment)
        run = deadlines()
        assert (run.summary, run.history) == ("nothing due", [])
        assert reload(case).state == S.AWAITING_BUYER

    clock.just_after(NEXT_MONDAY)
    assert deadlines().summary == "1 closed inactive"
