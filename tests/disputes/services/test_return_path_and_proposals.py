"""The return path (shipping the item back, confirming it, its window lapsing) and the agent's
proposals both parties answer."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from disputes import services
from disputes.exceptions import InvalidInput, TransitionRefused
from disputes.models import Offer
from policies.services import policy_save
from tests import factories
from tests.disputes.case_states import bring_to, refused, reload
from tests.disputes.services.money_paths import (
    APPEAL_WINDOW,
    CLAIMED,
    NOW,
    ORDER_AMOUNT,
    RATIONALE,
    RETURN_SHIPPING,
    SECOND,
    S,
    refunds,
)

pytestmark = pytest.mark.usefixtures("clock")


# The return path


def test_case_accept_claim_with_return_awaits_return(return_case, seller):
    services.case_accept_claim(case=return_case, seller=seller)

    case = reload(return_case)
    assert case.state == S.AWAITING_RETURN
    assert case.return_due_at == NOW + RETURN_SHIPPING
    assert (case.outcome, case.refund_amount) == ("return_and_refund", CLAIMED)
    assert (case.resolved_at, case.appeal_until) == (None, None)
    assert refunds(case) == []


def test_case_accept_claim_return_deadline_uses_pinned_rules(return_case, policy, seller, buyer):
    policy.return_shipping_days = 3
    policy_save(policy=policy, actor=None, reason="Shorter returns")
    newer_case = factories.case(buyer=buyer, seller=seller, requested_outcome="return_and_refund")

    services.case_accept_claim(case=return_case, seller=seller)
    services.case_accept_claim(case=newer_case, seller=seller)

    assert reload(return_case).return_due_at == NOW + RETURN_SHIPPING
    assert reload(newer_case).return_due_at == NOW + timedelta(days=3)


def test_case_decide_return_and_refund_awaits_return(mediated_case, agent):
    services.case_decide(case=mediated_case, agent=agent, outcome="return_and_refund", amount=None, rationale=RATIONALE)

    case = reload(mediated_case)
    assert (case.state, case.refund_amount) == (S.AWAITING_RETURN, ORDER_AMOUNT)
    assert case.return_due_at == NOW + RETURN_SHIPPING
    assert refunds(case) == []


def test_case_mark_return_shipped_records_tracking(return_case, buyer, seller, clock):
    services.case_accept_claim(case=return_case, seller=seller)
    clock.shift(timedelta(days=2))

    services.case_mark_return_shipped(case=return_case, buyer=buyer, carrier=" PostNL ", tracking_number="3S123")

    case = reload(return_case)
    assert case.state == S.AWAITING_RETURN
    assert (case.return_carrier, case.return_tracking_number) == ("PostNL", "3S123")
    assert case.return_shipped_at == NOW + timedelta(days=2)
    row = case.history.first()
    assert (row.history_user, row.history_change_reason) == (buyer, "Buyer sent the item back with PostNL")


def test_case_mark_return_shipped_without_tracking_is_refused(return_case, buyer, seller):
    services.case_accept_claim(case=return_case, seller=seller)

    with refused(return_case, InvalidInput) as excinfo:
        services.case_mark_return_shipped(case=return_case, buyer=buyer, carrier="PostNL", tracking_number=" ")

    assert set(excinfo.value.errors) == {"tracking_number"}


@pytest.mark.parametrize("who", ["seller", "other_buyer", "agent"])
def test_case_mark_return_shipped_by_other_than_buyer_is_refused(who, return_case, request):
    services.case_accept_claim(case=return_case, seller=return_case.seller)

    with refused(return_case, PermissionDenied):
        services.case_mark_return_shipped(
            case=return_case, buyer=request.getfixturevalue(who), carrier="PostNL", tracking_number="3S123"
        )


def test_case_mark_return_shipped_without_return_due_is_refused(open_case, buyer):
    case = bring_to(S.RESOLVED, open_case)

    with refused(case, TransitionRefused):
        services.case_mark_return_shipped(case=case, buyer=buyer, carrier="PostNL", tracking_number="3S123")


def test_case_mark_return_shipped_twice_keeps_the_first_tracking(return_case, buyer, seller):
    services.case_accept_claim(case=return_case, seller=seller)
    services.case_mark_return_shipped(case=return_case, buyer=buyer, carrier="PostNL", tracking_number="3S123")

    with refused(return_case, TransitionRefused):
        services.case_mark_return_shipped(case=return_case, buyer=buyer, carrier="DHL", tracking_number="OTHER")

    assert reload(return_case).return_tracking_number == "3S123"


def test_case_mark_return_shipped_after_the_return_window_is_refused(return_case, buyer, seller, clock):
    services.case_accept_claim(case=return_case, seller=seller)
    clock.shift(RETURN_SHIPPING + timedelta(seconds=1))

    with refused(return_case, TransitionRefused) as excinfo:
        services.case_mark_return_shipped(case=return_case, buyer=buyer, carrier="PostNL", tracking_number="3S123")

    assert "has passed" in excinfo.value.message


def test_case_confirm_return_resolves_with_refund(return_case, buyer, seller, clock):
    services.case_accept_claim(case=return_case, seller=seller)
    services.case_mark_return_shipped(case=return_case, buyer=buyer, carrier="PostNL", tracking_number="3S123")
    clock.shift(timedelta(days=4))

    services.case_confirm_return(case=return_case, seller=seller)

    case = reload(return_case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, "return_and_refund", CLAIMED)
    assert (case.resolved_at, case.appeal_until) == (NOW + timedelta(days=4), NOW + timedelta(days=4) + APPEAL_WINDOW)
    assert refunds(case) == [(CLAIMED, "EUR", f"{case.reference}-resolution")]


def test_case_lapse_return_without_shipped_return_is_no_action(return_case, seller, clock):
    services.case_accept_claim(case=return_case, seller=seller)
    clock.shift(RETURN_SHIPPING + SECOND)

    services.case_lapse_return(case=return_case)

    case = reload(return_case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, "no_action", None)
    assert case.history.first().history_user == services.system_user()
    assert refunds(case) == []


def test_case_lapse_return_after_shipped_return_refunds(return_case, buyer, seller, clock):
    services.case_accept_claim(case=return_case, seller=seller)
    services.case_mark_return_shipped(case=return_case, buyer=buyer, carrier="PostNL", tracking_number="3S123")
    clock.shift(RETURN_SHIPPING + SECOND)

    services.case_lapse_return(case=return_case)

    case = reload(return_case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, "return_and_refund", CLAIMED)
    assert refunds(case) == [(CLAIMED, "EUR", f"{case.reference}-resolution")]


# Proposals


def test_proposal_answer_first_accept_waits_for_other_party(mediated_case, agent, buyer):
    proposal = services.proposal_make(case=mediated_case, agent=agent, kind="partial_refund", amount=Decimal("25.00"))

    services.proposal_answer(case=mediated_case, party=buyer, accept=True)

    proposal.refresh_from_db()
    assert reload(mediated_case).state == S.IN_MEDIATION
    assert (proposal.status, proposal.buyer_answer, proposal.seller_answer) == (Offer.Status.PENDING, "accepted", "")
    assert refunds(mediated_case) == []


def test_proposal_answer_both_accept_applies_outcome(mediated_case, agent, buyer, seller):
    proposal = services.proposal_make(case=mediated_case, agent=agent, kind="partial_refund", amount=Decimal("25.00"))

    services.proposal_answer(case=mediated_case, party=seller, accept=True)
    services.proposal_answer(case=mediated_case, party=buyer, accept=True)

    proposal.refresh_from_db()
    case = reload(mediated_case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, "partial_refund", Decimal("25.00"))
    assert proposal.status == Offer.Status.ACCEPTED
    assert refunds(case) == [(Decimal("25.00"), "EUR", f"{case.reference}-resolution")]


def test_proposal_answer_one_rejects_stays_in_mediation(mediated_case, agent, buyer, seller):
    proposal = services.proposal_make(case=mediated_case, agent=agent, kind="partial_refund", amount=Decimal("25.00"))
    services.proposal_answer(case=mediated_case, party=buyer, accept=True)

    services.proposal_answer(case=mediated_case, party=seller, accept=False)

    proposal.refresh_from_db()
    assert reload(mediated_case).state == S.IN_MEDIATION
    assert (proposal.status, proposal.seller_answer) == (Offer.Status.DECLINED, "rejected")
    assert proposal.history.first().history_user == seller


def test_proposal_answer_after_rejection_is_refused(mediated_case, agent, buyer, seller):
    services.proposal_make(case=mediated_case, agent=agent, kind="partial_refund", amount=Decimal("25.00"))
    services.proposal_answer(case=mediated_case, party=seller, accept=False)

    with refused(mediated_case, TransitionRefused):
        services.proposal_answer(case=mediated_case, party=buyer, accept=True)


def test_proposal_make_supersedes_pending_proposal(mediated_case, agent, buyer, seller):
    first = services.proposal_make(case=mediated_case, agent=agent, kind="partial_refund", amount=Decimal("25.00"))
    services.proposal_answer(case=mediated_case, party=buyer, accept=True)

    services.proposal_make(case=mediated_case, agent=agent, kind="partial_refund", amount=Decimal("35.00"))
    services.proposal_answer(case=mediated_case, party=seller, accept=True)

    first.refresh_from_db()
    assert first.status == Offer.Status.SUPERSEDED
    assert reload(mediated_case).state == S.IN_MEDIATION  # the buyer has not answered the new one


@pytest.mark.parametrize("who", ["other_agent", "senior", "buyer"])
def test_proposal_make_by_other_than_assigned_agent_is_refused(who, mediated_case, senior, buyer):
    actors = {"other_agent": factories.agent_user(username="other_agent"), "senior": senior, "buyer": buyer}

    with refused(mediated_case, PermissionDenied):
        services.proposal_make(case=mediated_case, agent=actors[who], kind="replacement")


def test_proposal_make_above_order_amount_is_refused(mediated_case, agent):
    with refused(mediated_case, InvalidInput):
        services.proposal_make(case=mediated_case, agent=agent, kind="partial_refund", amount=Decimal("90.00"))


def test_proposal_adopted_return_awaits_return(mediated_case, agent, buyer, seller):
    services.proposal_make(case=mediated_case, agent=agent, kind="return_and_refund", amount=Decimal("40.00"))
    services.proposal_answer(case=mediated_case, party=buyer, accept=True)
    services.proposal_answer(case=mediated_case, party=seller, accept=True)

    case = reload(mediated_case)
    assert (case.state, case.refund_amount) == (S.AWAITING_RETURN, Decimal("40.00"))
    assert case.return_due_at == NOW + RETURN_SHIPPING
