"""Offers, refund instructions and the events they announce (the return path and the agent's
proposals: test_return_path_and_proposals.py).

Orders here are 80.00 EUR and cases claim a 30.00 partial refund (see `tests.factories`);
the pinned rules give the buyer 10 days to send a return back and both parties 7 days to appeal.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from disputes import services
from disputes.events import case_event
from disputes.exceptions import InvalidInput, TransitionRefused
from disputes.models import Offer, RefundInstruction
from tests import factories
from tests.disputes.case_states import bring_to, refused, reload
from tests.disputes.services.money_paths import (
    APPEAL_WINDOW,
    CLAIMED,
    NOW,
    ORDER_AMOUNT,
    RATIONALE,
    SECOND,
    S,
    offer,
    refunds,
)

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def announced():
    """The events `case_event` receivers got, in order."""
    events = []

    def receiver(sender, event, **kwargs):
        events.append(event)

    case_event.connect(receiver, weak=False, dispatch_uid="test_offers_and_refunds")
    yield events
    case_event.disconnect(dispatch_uid="test_offers_and_refunds")


# Offer amounts


def test_offer_make_above_order_amount_is_refused_and_writes_nothing(open_case, seller):
    with refused(open_case, InvalidInput) as excinfo:
        offer(open_case, seller, "partial_refund", ORDER_AMOUNT + Decimal("0.01"))

    assert "amount" in excinfo.value.errors
    assert not Offer.objects.filter(case=open_case).exists()


@pytest.mark.parametrize("amount", [None, Decimal("0"), Decimal("-5.00")])
def test_offer_make_partial_refund_without_positive_amount_is_refused(amount, open_case, seller):
    with refused(open_case, InvalidInput):
        offer(open_case, seller, "partial_refund", amount)


def test_offer_make_return_without_address_is_refused(open_case, seller):
    with refused(open_case, InvalidInput) as excinfo:
        services.offer_make(case=open_case, seller=seller, kind="return_and_refund", amount=CLAIMED)

    assert "return_address" in excinfo.value.errors


@pytest.mark.parametrize("asked", [None, Decimal("10.00")])
def test_offer_make_full_refund_is_order_amount(asked, open_case, seller):
    made = offer(open_case, seller, "full_refund", asked)

    assert made.amount == ORDER_AMOUNT


def test_offer_make_replacement_moves_no_money(open_case, seller):
    made = offer(open_case, seller, "replacement", Decimal("10.00"))

    assert made.amount is None


def test_offer_make_supersedes_pending_offer(open_case, buyer, seller):
    first = offer(open_case, seller, "partial_refund", Decimal("10.00"))
    second = offer(open_case, seller, "partial_refund", Decimal("25.00"))

    first.refresh_from_db()
    assert first.status == Offer.Status.SUPERSEDED
    assert first.answered_at == NOW
    assert list(Offer.objects.filter(case=open_case, status=Offer.Status.PENDING)) == [second]

    services.offer_accept(case=open_case, buyer=buyer)
    assert reload(open_case).refund_amount == Decimal("25.00")


def test_offer_accept_records_buyer_answer(open_case, buyer, seller):
    made = offer(open_case, seller, "partial_refund", Decimal("25.00"))

    services.offer_accept(case=open_case, buyer=buyer)

    made.refresh_from_db()
    assert (made.status, made.buyer_answer, made.answered_at) == (Offer.Status.ACCEPTED, "accepted", NOW)
    assert made.history.first().history_user == buyer


def test_offer_decline_returns_case_to_seller(open_case, buyer, seller):
    made = offer(open_case, seller, "partial_refund", Decimal("5.00"))

    services.offer_decline(case=open_case, buyer=buyer, note="Far too little.")

    made.refresh_from_db()
    case = reload(open_case)
    assert case.state == S.OPEN
    assert case.history.first().history_change_reason == "Buyer declined the offer: Far too little."
    assert (made.status, made.buyer_answer) == (Offer.Status.DECLINED, "rejected")
    assert case.pending_offer() is None


def test_case_escalate_declines_pending_offer(open_case, buyer, seller, clock):
    made = offer(open_case, seller, "partial_refund", Decimal("5.00"))
    clock.shift(timedelta(hours=72))

    services.case_escalate(case=open_case, buyer=buyer)

    made.refresh_from_db()
    assert (made.status, made.buyer_answer) == (Offer.Status.DECLINED, "rejected")


def test_case_withdraw_lapses_pending_offer(open_case, buyer, seller):
    made = offer(open_case, seller, "partial_refund", Decimal("5.00"))

    services.case_withdraw(case=open_case, buyer=buyer)

    made.refresh_from_db()
    assert made.status == Offer.Status.LAPSED


def test_case_accept_claim_lapses_pending_offer(open_case, seller):
    made = offer(open_case, seller, "partial_refund", Decimal("5.00"))

    services.case_accept_claim(case=open_case, seller=seller)

    made.refresh_from_db()
    assert made.status == Offer.Status.LAPSED
    assert reload(open_case).pending_offer() is None


# Refund instructions


def test_offer_accept_instructs_one_refund_with_idempotency_key(open_case, buyer, seller):
    offer(open_case, seller, "partial_refund", Decimal("25.00"))

    services.offer_accept(case=open_case, buyer=buyer)

    assert refunds(open_case) == [(Decimal("25.00"), "EUR", f"{open_case.reference}-resolution")]
    assert RefundInstruction.objects.get(case=open_case).status == RefundInstruction.Status.PENDING


def test_offer_accept_retried_does_not_refund_twice(open_case, buyer, seller):
    offer(open_case, seller, "partial_refund", Decimal("25.00"))
    services.offer_accept(case=open_case, buyer=buyer)

    with refused(open_case, TransitionRefused):
        services.offer_accept(case=open_case, buyer=buyer)

    assert len(refunds(open_case)) == 1


@pytest.mark.parametrize(
    ("claimed", "outcome"),
    [(CLAIMED, "partial_refund"), (ORDER_AMOUNT, "full_refund")],
)
def test_case_accept_claim_refunds_claimed_amount(claimed, outcome, order, seller):
    case = factories.case(order_=order, amount_claimed=claimed)

    services.case_accept_claim(case=case, seller=seller)

    case = reload(case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, outcome, claimed)
    assert refunds(case) == [(claimed, "EUR", f"{case.reference}-resolution")]


def test_case_decide_full_refund_instructs_order_amount(mediated_case, agent):
    services.case_decide(case=mediated_case, agent=agent, outcome="full_refund", amount=None, rationale=RATIONALE)

    assert refunds(mediated_case) == [(ORDER_AMOUNT, "EUR", f"{mediated_case.reference}-resolution")]


def test_case_decide_above_order_amount_is_refused(mediated_case, agent):
    with refused(mediated_case, InvalidInput):
        services.case_decide(
            case=mediated_case, agent=agent, outcome="partial_refund", amount=Decimal("80.01"), rationale=RATIONALE
        )


def test_case_decide_without_rationale_is_refused(mediated_case, agent):
    with refused(mediated_case, InvalidInput):
        services.case_decide(case=mediated_case, agent=agent, outcome="no_action", amount=None, rationale="  ")


def _accept_claim_for_replacement(order, people):
    case = factories.case(order_=order, requested_outcome="replacement")
    services.case_accept_claim(case=case, seller=people["seller"])
    return case


def _accept_replacement_offer(order, people):
    case = factories.case(order_=order)
    offer(case, people["seller"], "replacement")
    services.offer_accept(case=case, buyer=people["buyer"])
    return case


def _decide(outcome):
    def settle(order, people):
        case = bring_to(S.IN_MEDIATION, factories.case(order_=order), agent=people["agent"])
        services.case_decide(case=case, agent=people["agent"], outcome=outcome, amount=None, rationale=RATIONALE)
        return case

    return settle


def _adopt_replacement_proposal(order, people):
    case = bring_to(S.IN_MEDIATION, factories.case(order_=order), agent=people["agent"])
    services.proposal_make(case=case, agent=people["agent"], kind="replacement")
    services.proposal_answer(case=case, party=people["buyer"], accept=True)
    services.proposal_answer(case=case, party=people["seller"], accept=True)
    return case


@pytest.mark.parametrize(
    ("settle", "outcome"),
    [
        pytest.param(_accept_claim_for_replacement, "replacement", id="seller-accepts-replacement-claim"),
        pytest.param(_accept_replacement_offer, "replacement", id="buyer-accepts-replacement-offer"),
        pytest.param(_decide("replacement"), "replacement", id="agent-decides-replacement"),
        pytest.param(_decide("no_action"), "no_action", id="agent-decides-no-action"),
        pytest.param(_adopt_replacement_proposal, "replacement", id="parties-adopt-replacement"),
    ],
)
def test_case_resolution_without_money_instructs_no_refund(settle, outcome, order, buyer, seller, agent):
    case = reload(settle(order, {"buyer": buyer, "seller": seller, "agent": agent}))

    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, outcome, None)
    assert refunds(case) == []


def _appeal(case, party, senior, outcome, amount=None):
    services.case_appeal(case=case, party=party, grounds="Not enough.")
    services.appeal_claim(case=case, agent=senior)
    services.case_decide_appeal(case=case, agent=senior, outcome=outcome, amount=amount, rationale=RATIONALE)
    return reload(case)


@pytest.mark.parametrize(
    ("outcome", "amount", "difference"),
    [("partial_refund", Decimal("50.00"), Decimal("30.00")), ("full_refund", None, Decimal("60.00"))],
)
def test_case_decide_appeal_raising_amount_instructs_only_difference(outcome, amount, difference, open_case, senior):
    case = bring_to(S.RESOLVED, open_case)  # 20.00 refunded

    case = _appeal(case, case.buyer, senior, outcome, amount)

    assert case.state == S.CLOSED
    assert case.refund_amount == (amount or ORDER_AMOUNT)
    assert refunds(case) == [
        (Decimal("20.00"), "EUR", f"{case.reference}-resolution"),
        (difference, "EUR", f"{case.reference}-appeal"),
    ]


@pytest.mark.parametrize(("outcome", "amount"), [("partial_refund", Decimal("20.00")), ("no_action", None)])
def test_case_decide_appeal_not_raising_amount_instructs_nothing_more(outcome, amount, open_case, senior):
    case = bring_to(S.RESOLVED, open_case)  # 20.00 refunded

    case = _appeal(case, case.seller, senior, outcome, amount)

    assert case.outcome == outcome
    assert refunds(case) == [(Decimal("20.00"), "EUR", f"{case.reference}-resolution")]


def test_case_close_after_refund_instructs_nothing_more(open_case, clock):
    case = bring_to(S.RESOLVED, open_case)
    clock.shift(APPEAL_WINDOW + SECOND)

    services.case_close(case=case)

    assert reload(case).state == S.CLOSED
    assert len(refunds(case)) == 1


# Events


def test_case_event_sent_only_after_commit(open_case, seller, announced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        offer(open_case, seller, "partial_refund", Decimal("25.00"))
        assert announced == []

    [event] = announced
    assert (event.name, event.from_state, event.to_state) == ("make_offer", S.OPEN, S.AWAITING_BUYER)
    assert (event.case_id, event.reference, event.actor_id, event.at) == (
        open_case.pk,
        open_case.reference,
        seller.pk,
        NOW,
    )


def test_case_event_announced_for_each_step(
    open_case, buyer, seller, agent, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        offer(open_case, seller, "partial_refund", Decimal("5.00"))
        services.offer_decline(case=open_case, buyer=buyer)
        services.case_decline_claim(case=open_case, seller=seller)
        services.case_escalate(case=open_case, buyer=buyer)
        services.case_claim(case=open_case, agent=agent)
        services.proposal_make(case=open_case, agent=agent, kind="partial_refund", amount=Decimal("25.00"))
        services.proposal_answer(case=open_case, party=buyer, accept=True)
        services.proposal_answer(case=open_case, party=seller, accept=True)

    assert [(e.name, e.from_state, e.to_state) for e in announced] == [
        ("make_offer", S.OPEN, S.AWAITING_BUYER),
        ("decline_offer", S.AWAITING_BUYER, S.OPEN),
        ("decline_claim", S.OPEN, S.AWAITING_BUYER),
        ("escalate", S.AWAITING_BUYER, S.ESCALATED),
        ("claim", S.ESCALATED, S.IN_MEDIATION),
        ("proposed", S.IN_MEDIATION, S.IN_MEDIATION),
        ("proposal_accepted", S.IN_MEDIATION, S.IN_MEDIATION),
        ("adopt_proposal", S.IN_MEDIATION, S.RESOLVED),
    ]


def test_case_event_filed_announces_new_case(order, buyer, announced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = factories.case(order_=order)

    assert [(e.name, e.from_state, e.to_state, e.actor_id) for e in announced] == [("filed", "", S.OPEN, buyer.pk)]
    assert announced[0].case_id == case.pk


@pytest.mark.parametrize(
    ("attempt", "error"),
    [
        pytest.param(lambda case, people: services.offer_accept(case=case, buyer=people["buyer"]), TransitionRefused,
                     id="wrong-state"),
        pytest.param(lambda case, people: services.case_escalate(case=case, buyer=people["buyer"]), TransitionRefused,
                     id="condition-false"),
        pytest.param(lambda case, people: services.case_accept_claim(case=case, seller=people["buyer"]),
                     PermissionDenied, id="wrong-actor"),
        pytest.param(lambda case, people: offer(case, people["seller"], "partial_refund", Decimal("99.00")),
                     InvalidInput, id="invalid-input"),
    ],
)
def test_case_event_none_for_refused_action(
    attempt, error, open_case, buyer, seller, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with refused(open_case, error):
            attempt(open_case, {"buyer": buyer, "seller": seller})

    assert callbacks == []
    assert announced == []


def test_case_event_none_when_transaction_rolls_back(open_case, seller, announced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.case_accept_claim(case=open_case, seller=seller)
            raise RuntimeError("the request failed after the service returned")

    assert announced == []
    assert reload(open_case).state == S.OPEN
    assert refunds(open_case) == []
