"""Offers, proposals, the return path, refund instructions and the events they announce.

Orders here are 80.00 EUR and cases claim a 30.00 partial refund (see `tests.factories`);
the pinned rules give the buyer 10 days to send a return back and both parties 7 days to appeal.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from disputes import services
from disputes.events import case_event
from disputes.exceptions import InvalidInput, TransitionRefused
from disputes.models import Case, Offer, RefundInstruction
from policies.services import policy_save
from tests import factories
from tests.disputes.case_states import RETURN_ADDRESS, bring_to, refused, reload

S = Case.State
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
RETURN_SHIPPING = timedelta(days=10)
APPEAL_WINDOW = timedelta(days=7)
ORDER_AMOUNT = Decimal("80.00")
CLAIMED = Decimal("30.00")
RATIONALE = "Photos show the shade cracked in transit; disputes policy 4.2."


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def mediated_case(open_case, agent):
    return bring_to(S.IN_MEDIATION, open_case, agent=agent)


@pytest.fixture
def return_case(order):
    """A case whose buyer asked to send the item back for a refund of the claimed amount."""
    return factories.case(order_=order, requested_outcome="return_and_refund")


@pytest.fixture
def announced():
    """The events `case_event` receivers got, in order."""
    events = []

    def receiver(sender, event, **kwargs):
        events.append(event)

    case_event.connect(receiver, weak=False, dispatch_uid="test_offers_and_refunds")
    yield events
    case_event.disconnect(dispatch_uid="test_offers_and_refunds")


def refunds(case: Case) -> list[tuple[Decimal, str, str]]:
    return [(r.amount, r.currency, r.idempotency_key) for r in RefundInstruction.objects.filter(case=case)]


def offer(case: Case, seller, kind: str, amount: Decimal | None = None) -> Offer:
    address = RETURN_ADDRESS if kind == "return_and_refund" else ""
    return services.offer_make(case=case, seller=seller, kind=kind, amount=amount, return_address=address)


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
