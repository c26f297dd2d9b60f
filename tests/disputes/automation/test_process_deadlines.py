"""`manage.py process_deadlines`: each rule of the pinned policy, one second before and one second
after its deadline, as the operator runs it (summary line included), and run again.

Cases are filed on Monday 2 March 2026 at 09:00 UTC under the default rules (`tests.factories`):
the seller has 72 hours, agents aim to decide in 48, a return has 10 days to go back and the seller
3 days to confirm it, the buyer 120 hours to answer the seller and 14 days of inactivity, the appeal
window is 7 days and a missed decision target goes to seniors 24 hours later. Reminders are off
(`reminder_hours=0`) except in the reminder tests, so each run does only the step under test.
The `deadlines` fixture checks on every run that each history row it writes is under the system
user with a reason.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from disputes import services
from disputes.exceptions import TransitionRefused
from disputes.management.commands import process_deadlines as command_module
from disputes.models import Case, EvidenceRequest, Notification, Offer, Outcome, RefundInstruction, Reminder
from disputes.services.conversation import evidence_add, message_post
from policies.services import policy_save
from tests import factories
from tests.disputes.automation.conftest import MONDAY, SECOND
from tests.disputes.case_states import OFFERED_AMOUNT, bring_to, refused, reload

S = Case.State
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
FRIDAY = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
NEXT_MONDAY = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
NEXT_TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
RATIONALE = "No photos arrived by the date asked; disputes policy 4.2."


@pytest.fixture
def policy(db, clock):
    """The disputes policy, in force since Sunday, with reminders off."""
    return factories.dispute_policy(reminder_hours=0)


def edit_rules(policy, **rules):
    """A new version of the policy; cases filed from now on pin it."""
    for name, value in rules.items():
        setattr(policy, name, value)
    return policy_save(policy=policy, actor=None, reason="Rules changed for this test")


def another_case(buyer, seller, **fields) -> Case:
    return factories.case(order_=factories.order(buyer=buyer, seller=seller), **fields)


def notified(case: Case, event: str) -> dict:
    notes = Notification.objects.filter(case=case, event=event).select_related("recipient")
    return {note.recipient: note.text for note in notes}


def reasons(case: Case) -> list[str]:
    return list(case.history.order_by("history_id").values_list("history_change_reason", flat=True))


# The seller's answer deadline


def test_process_deadlines_leaves_an_unanswered_case_alone_until_the_seller_deadline(clock, deadlines, open_case):
    clock.just_before(open_case.seller_answer_due_at)

    run = deadlines()

    assert run.summary == "nothing due"
    assert run.history == []
    assert reload(open_case).state == S.OPEN


def test_process_deadlines_escalates_a_case_the_seller_did_not_answer_and_tells_both_sides_why(
    clock, deadlines, open_case, buyer, seller, mailoutbox
):
    due = open_case.seller_answer_due_at
    assert due == MONDAY + 72 * HOUR
    clock.just_after(due)

    run = deadlines()

    assert run.summary == "1 escalated"
    case = reload(open_case)
    assert case.state == S.ESCALATED
    assert (case.escalated_at, case.agent_decision_due_at) == (due + SECOND, due + SECOND + 48 * HOUR)
    assert run.case_reasons(case) == ["The seller did not answer in time"]
    assert case.history.latest().history_user == services.system_user()
    text = f"Case {case.reference} went to our team: the seller did not answer in time."
    assert notified(case, "escalate_unanswered") == {buyer: text, seller: text}
    assert sorted((mail.to, mail.subject) for mail in mailoutbox) == sorted(
        [([buyer.email], f"[{case.reference}] {text}"), ([seller.email], f"[{case.reference}] {text}")]
    )

    again = deadlines()

    assert (again.summary, again.history) == ("nothing due", [])
    assert len(notified(case, "escalate_unanswered")) == 2


def test_process_deadlines_leaves_a_case_the_seller_answered_to_the_buyer(clock, deadlines, open_case):
    case = bring_to(S.AWAITING_BUYER, open_case)
    clock.just_after(case.seller_answer_due_at)

    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.AWAITING_BUYER


# Returns


def test_process_deadlines_refunds_a_return_the_seller_did_not_confirm_in_time(
    clock, deadlines, open_case, buyer, seller
):
    case = bring_to(S.AWAITING_RETURN, open_case)
    clock.move_to(MONDAY + DAY)
    services.case_mark_return_shipped(case=case, buyer=buyer, carrier="PostNL", tracking_number="3SABC123")
    due = reload(case).return_confirm_due_at
    assert due == MONDAY + 4 * DAY

    clock.just_before(due)
    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.AWAITING_RETURN

    clock.just_after(due)
    run = deadlines()

    assert run.summary == "1 return lapsed"
    case = reload(case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, Outcome.RETURN_AND_REFUND, OFFERED_AMOUNT)
    assert case.resolved_at == due + SECOND
    assert run.case_reasons(case) == ["The return window passed"]
    refund = RefundInstruction.objects.get(case=case)
    assert (refund.amount, refund.currency, refund.idempotency_key) == (
        OFFERED_AMOUNT,
        "EUR",
        f"{case.reference}-resolution",
    )
    assert (refund.status, refund.payment_reference) == (
        RefundInstruction.Status.SENT,
        f"recorded:{refund.idempotency_key}",
    )
    assert set(notified(case, "lapse_return")) == {buyer, seller}

    again = deadlines()

    assert (again.summary, again.history) == ("nothing due", [])
    assert RefundInstruction.objects.filter(case=case).count() == 1


def test_process_deadlines_gives_a_return_shipped_on_the_last_day_its_full_confirm_window(
    clock, deadlines, open_case, buyer
):
    case = bring_to(S.AWAITING_RETURN, open_case)
    assert case.return_due_at == MONDAY + 10 * DAY
    clock.move_to(MONDAY + 9 * DAY)
    services.case_mark_return_shipped(case=case, buyer=buyer, carrier="PostNL", tracking_number="3SABC123")

    clock.just_after(case.return_due_at)
    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.AWAITING_RETURN

    clock.just_after(MONDAY + 12 * DAY)
    assert deadlines().summary == "1 return lapsed"
    assert reload(case).outcome == Outcome.RETURN_AND_REFUND
    assert RefundInstruction.objects.filter(case=case).count() == 1


def test_process_deadlines_resolves_a_return_never_sent_back_with_no_action(clock, deadlines, open_case, buyer, seller):
    case = bring_to(S.AWAITING_RETURN, open_case)
    due = case.return_due_at

    clock.just_before(due)
    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.AWAITING_RETURN

    clock.just_after(due)
    run = deadlines()

    assert run.summary == "1 return lapsed"
    case = reload(case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, Outcome.NO_ACTION, None)
    assert run.case_reasons(case) == ["The return window passed"]
    assert not RefundInstruction.objects.filter(case=case).exists()
    assert set(notified(case, "lapse_return")) == {buyer, seller}
    assert deadlines().summary == "nothing due"


# The agents' decision target


@pytest.mark.parametrize("state", [S.ESCALATED, S.IN_MEDIATION, S.APPEALED])
def test_process_deadlines_flags_a_missed_decision_target_then_raises_it_to_seniors_once_each(
    state, clock, deadlines, open_case, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # an appealed case's refund goes out at once
        case = bring_to(state, open_case, agent=agent)
    target = case.agent_decision_due_at
    assert target == MONDAY + 48 * HOUR

    clock.just_before(target)
    assert deadlines().summary == "nothing due"

    clock.just_after(target)
    run = deadlines()
    assert run.summary == "1 flagged overdue"
    case = reload(case)
    assert (case.state, case.decision_overdue_at, case.raised_to_seniors_at) == (state, target + SECOND, None)
    assert run.case_reasons(case) == ["The decision target passed: flagged overdue"]
    assert deadlines().summary == "nothing due"

    seniors_at = target + 24 * HOUR
    clock.just_before(seniors_at)
    assert deadlines().summary == "nothing due"
    assert reload(case).raised_to_seniors_at is None

    clock.just_after(seniors_at)
    run = deadlines()
    assert run.summary == "1 raised to seniors"
    case = reload(case)
    assert (case.state, case.raised_to_seniors_at) == (state, seniors_at + SECOND)
    assert run.case_reasons(case) == ["Still undecided: raised to senior agents"]

    clock.move_to(seniors_at + 30 * DAY)
    assert deadlines().summary == "nothing due"
    automated = [reason for reason in reasons(case) if "overdue" in reason or "senior" in reason]
    assert automated == ["The decision target passed: flagged overdue", "Still undecided: raised to senior agents"]


def test_process_deadlines_does_not_flag_a_case_decided_before_its_target(clock, deadlines, open_case, agent):
    case = bring_to(S.IN_MEDIATION, open_case, agent=agent)
    services.case_decide(case=case, agent=agent, outcome=Outcome.NO_ACTION, amount=None, rationale=RATIONALE)

    clock.just_after(case.agent_decision_due_at)

    assert deadlines().summary == "nothing due"
    assert reload(case).decision_overdue_at is None


# The appeal window


def test_process_deadlines_closes_a_resolved_case_when_its_appeal_window_passes(
    clock, deadlines, open_case, buyer, seller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # its refund goes out at once
        case = bring_to(S.RESOLVED, open_case)
    due = case.appeal_until
    assert due == MONDAY + 7 * DAY

    clock.just_before(due)
    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.RESOLVED

    clock.just_after(due)
    run = deadlines()

    assert run.summary == "1 closed after appeal window"
    case = reload(case)
    assert (case.state, case.closed_at) == (S.CLOSED, due + SECOND)
    assert run.case_reasons(case) == ["The appeal window passed"]
    assert set(notified(case, "close")) == {buyer, seller}
    assert deadlines().summary == "nothing due"


def test_process_deadlines_does_not_close_a_case_under_appeal(clock, deadlines, open_case):
    case = bring_to(S.APPEALED, open_case)

    clock.just_after(MONDAY + 7 * DAY)
    deadlines()

    assert reload(case).state == S.APPEALED


# The buyer's move


@pytest.mark.parametrize("seller_answer", ["offer", "decline"])
def test_process_deadlines_closes_a_case_whose_buyer_left_the_sellers_answer_unanswered(
    seller_answer, clock, deadlines, open_case, buyer, seller
):
    if seller_answer == "offer":
        services.offer_make(case=open_case, seller=seller, kind="partial_refund", amount=OFFERED_AMOUNT)
    else:
        services.case_decline_claim(case=open_case, seller=seller, note="It left us intact.")
    due = reload(open_case).buyer_answer_due_at
    assert due == MONDAY + 120 * HOUR

    clock.just_before(due)
    assert deadlines().summary == "nothing due"
    assert reload(open_case).state == S.AWAITING_BUYER

    clock.just_after(due)
    run = deadlines()

    assert run.summary == "1 closed inactive"
    case = reload(open_case)
    assert (case.state, case.closed_at) == (S.CLOSED, due + SECOND)
    assert run.case_reasons(case) == ["Closed: the buyer did not answer the seller in time"]
    text = f"Case {case.reference} was closed: the buyer did not answer in time."
    assert notified(case, "close_inactive") == {buyer: text, seller: text}
    if seller_answer == "offer":
        offer = Offer.objects.get(case=case)
        assert (offer.status, offer.answered_at) == (Offer.Status.LAPSED, due + SECOND)
        assert offer.history.latest().history_change_reason == "Offer no longer open"
    assert deadlines().summary == "nothing due"


@pytest.fixture
def slow_offer_case(policy, order, seller):
    """The buyer has 30 days to answer the offer but goes inactive after 3."""
    edit_rules(policy, offer_response_hours=30 * 24, buyer_inactivity_days=3)
    case = factories.case(order_=order)
    services.offer_make(case=case, seller=seller, kind="partial_refund", amount=OFFERED_AMOUNT)
    return reload(case)


def test_process_deadlines_closes_a_case_after_the_buyer_inactivity_window(clock, deadlines, slow_offer_case):
    window_ends = MONDAY + 3 * DAY

    clock.just_before(window_ends)
    assert deadlines().summary == "nothing due"
    assert reload(slow_offer_case).state == S.AWAITING_BUYER

    clock.just_after(window_ends)
    run = deadlines()

    assert run.summary == "1 closed inactive"
    case = reload(slow_offer_case)
    assert case.state == S.CLOSED
    assert run.case_reasons(case) == ["Closed: no activity from the buyer in the inactivity window"]
    assert Offer.objects.get(case=case).status == Offer.Status.LAPSED
    assert deadlines().summary == "nothing due"


def test_process_deadlines_counts_buyer_inactivity_from_the_buyers_last_message(
    clock, deadlines, slow_offer_case, buyer
):
    clock.move_to(MONDAY + 2 * DAY)
    message_post(case=slow_offer_case, author=buyer, body="Still measuring the shade, give me a day.")

    clock.just_after(MONDAY + 3 * DAY)
    assert deadlines().summary == "nothing due"
    assert reload(slow_offer_case).state == S.AWAITING_BUYER

    clock.just_before(MONDAY + 5 * DAY)
    assert deadlines().summary == "nothing due"

    clock.just_after(MONDAY + 5 * DAY)
    assert deadlines().summary == "1 closed inactive"
    assert reload(slow_offer_case).state == S.CLOSED


def test_process_deadlines_does_not_count_a_seller_message_as_buyer_activity(clock, deadlines, slow_offer_case, seller):
    clock.move_to(MONDAY + 2 * DAY)
    message_post(case=slow_offer_case, author=seller, body="Any news?")

    clock.just_after(MONDAY + 3 * DAY)

    assert deadlines().summary == "1 closed inactive"


@pytest.mark.parametrize("seller_answer", ["offer", "decline"])
def test_process_deadlines_gives_the_buyer_the_whole_inactivity_window_after_a_late_seller_answer(
    seller_answer, clock, deadlines, policy, order, seller
):
    edit_rules(policy, offer_response_hours=30 * 24, buyer_inactivity_days=3)
    case = factories.case(order_=order)
    answered_at = clock.move_to(MONDAY + 70 * HOUR)  # the buyer has been quiet since filing
    if seller_answer == "offer":
        services.offer_make(case=case, seller=seller, kind="partial_refund", amount=OFFERED_AMOUNT)
    else:
        services.case_decline_claim(case=case, seller=seller)

    clock.just_after(MONDAY + 3 * DAY)
    assert deadlines().summary == "nothing due"
    clock.just_before(answered_at + 3 * DAY)
    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.AWAITING_BUYER

    clock.just_after(answered_at + 3 * DAY)
    assert deadlines().summary == "1 closed inactive"


def test_process_deadlines_does_not_close_for_buyer_inactivity_while_it_is_the_sellers_move(
    clock, deadlines, policy, order
):
    edit_rules(policy, seller_answer_hours=30 * 24, buyer_inactivity_days=3)
    case = factories.case(order_=order)

    clock.move_to(MONDAY + 10 * DAY)

    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.OPEN


# Evidence requests


@pytest.fixture
def evidence_request(clock, open_case, agent):
    case = bring_to(S.IN_MEDIATION, open_case, agent=agent)
    return services.evidence_request_create(
        case=case, agent=agent, party=case.buyer, note="A photo of the cracked shade.", due_at=MONDAY + 24 * HOUR
    )


def test_process_deadlines_notes_a_missed_evidence_request_and_the_agent_may_then_decide(
    clock, deadlines, evidence_request, agent
):
    case = evidence_request.case
    due = evidence_request.due_at

    clock.just_before(due)
    assert deadlines().summary == "nothing due"
    with refused(case, TransitionRefused):
        services.case_decide(case=case, agent=agent, outcome=Outcome.NO_ACTION, amount=None, rationale=RATIONALE)

    clock.just_after(due)
    run = deadlines()

    assert run.summary == "1 evidence missed"
    assert EvidenceRequest.objects.get(pk=evidence_request.pk).missed_at == due + SECOND
    assert run.case_reasons(case) == [
        "The buyer did not send the requested evidence in time; the agent may decide without it"
    ]
    assert reload(case).state == S.IN_MEDIATION
    assert deadlines().summary == "nothing due"
    services.case_decide(case=case, agent=agent, outcome=Outcome.NO_ACTION, amount=None, rationale=RATIONALE)
    assert reload(case).state == S.RESOLVED


def test_process_deadlines_does_not_note_evidence_that_arrived_in_time(
    clock, deadlines, evidence_request, buyer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    clock.move_to(MONDAY + 2 * HOUR)
    evidence_add(
        case=evidence_request.case,
        uploader=buyer,
        files=[SimpleUploadedFile("shade.pdf", PDF_BYTES, content_type="application/pdf")],
    )

    clock.just_after(evidence_request.due_at)

    assert deadlines().summary == "nothing due"
    assert EvidenceRequest.objects.get(pk=evidence_request.pk).missed_at is None


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


# All at once, and the command itself


def test_process_deadlines_does_each_due_step_once_however_often_it_runs(
    clock, deadlines, buyer, seller, agent, django_capture_on_commit_callbacks
):
    factories.dispute_policy(reminder_hours=0)
    with django_capture_on_commit_callbacks(execute=True):  # refunds go out as they would in production
        unanswered = another_case(buyer, seller)
        unanswered_offer = bring_to(S.AWAITING_BUYER, another_case(buyer, seller))
        return_not_sent = bring_to(S.AWAITING_RETURN, another_case(buyer, seller))
        resolved = bring_to(S.RESOLVED, another_case(buyer, seller))
        mediated = bring_to(S.IN_MEDIATION, another_case(buyer, seller), agent=agent)
        services.evidence_request_create(
            case=mediated, agent=agent, party=seller, note="The dispatch photo.", due_at=MONDAY + DAY
        )

    clock.move_to(MONDAY + 20 * DAY)
    first = deadlines()

    assert first.summary == (
        "1 closed after appeal window, 1 closed inactive, 1 escalated, 1 evidence missed, 1 flagged overdue, "
        "1 return lapsed"
    )
    states = {case: reload(case).state for case in [unanswered, unanswered_offer, return_not_sent, resolved, mediated]}
    assert states == {
        unanswered: S.ESCALATED,
        unanswered_offer: S.CLOSED,
        return_not_sent: S.RESOLVED,
        resolved: S.CLOSED,
        mediated: S.IN_MEDIATION,
    }
    assert len(first.history) == 7  # five cases, the mediated one twice, and the lapsed offer
    assert {row.history_user for row in first.history} == {services.system_user()}
    assert all(row.history_change_reason for row in first.history)
    # The second period for seniors had passed as well: that step is taken on the next run.
    assert deadlines().summary == "1 raised to seniors"
    third = deadlines()
    assert (third.summary, third.history) == ("nothing due", [])
    assert RefundInstruction.objects.filter(case=resolved).count() == 1


def test_process_deadlines_loop_runs_again_after_each_interval(clock, open_case, monkeypatch):
    naps = []

    class Stop(Exception):
        pass

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            raise Stop
        clock.just_after(open_case.seller_answer_due_at)  # the deadline passes while it waits

    monkeypatch.setattr(command_module.time, "sleep", sleep)
    out = StringIO()

    with pytest.raises(Stop):
        call_command("process_deadlines", "--loop", "--interval", "30", stdout=out)

    lines = out.getvalue().strip().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["nothing due.", "1 escalated."]
    assert naps == [30, 30]
    assert reload(open_case).state == S.ESCALATED


def test_process_deadlines_notes_no_missed_evidence_on_a_case_the_buyer_withdrew(
    clock, deadlines, evidence_request, buyer
):
    case = services.case_withdraw(case=evidence_request.case, buyer=buyer, note="Sorted it out with the seller.")
    history_before = reasons(case)

    clock.just_after(evidence_request.due_at)

    assert deadlines().summary == "nothing due"
    assert reasons(case) == history_before


def test_process_deadlines_sends_no_evidence_reminder_once_the_case_is_withdrawn(
    clock, deadlines, policy, order, agent, buyer, mailoutbox
):
    edit_rules(policy, reminder_hours=24)
    case = bring_to(S.IN_MEDIATION, factories.case(order_=order), agent=agent)
    request = services.evidence_request_create(
        case=case, agent=agent, party=buyer, note="A photo of the cracked shade.", due_at=MONDAY + 36 * HOUR
    )
    services.case_withdraw(case=case, buyer=buyer)

    clock.just_after(request.due_at - 24 * HOUR)

    assert deadlines().summary == "nothing due"
    assert not Reminder.objects.exists()
    assert mailoutbox == []
