"""`process_deadlines` on the buyer's move (their answer and their inactivity) and on evidence
requests; the policy and the clock as in test_process_deadlines.py (policy: conftest.py)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disputes import services
from disputes.exceptions import TransitionRefused
from disputes.models import EvidenceRequest, Offer, Outcome, Reminder
from disputes.services.conversation import evidence_add, message_post
from tests import factories
from tests.disputes.automation.conftest import MONDAY, SECOND, run_across
from tests.disputes.automation.deadlines.helpers import (
    DAY,
    HOUR,
    PDF_BYTES,
    RATIONALE,
    S,
    edit_rules,
    notified,
    reasons,
)
from tests.disputes.case_states import OFFERED_AMOUNT, bring_to, refused, reload

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

    run = run_across(due, clock=clock, deadlines=deadlines, case=open_case, state=S.AWAITING_BUYER)

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

    run = run_across(window_ends, clock=clock, deadlines=deadlines, case=slow_offer_case, state=S.AWAITING_BUYER)

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
    assert run_across(answered_at + 3 * DAY, clock=clock, deadlines=deadlines, case=case, state=S.AWAITING_BUYER).summary == "1 closed inactive"


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
