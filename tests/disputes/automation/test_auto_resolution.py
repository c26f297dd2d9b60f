"""Automatic resolution by the rules of the pinned policy, through `process_deadlines`.

The "not received" rule refunds in full when the reason is non-delivery, the order has no
delivery scan, the seller let the answer deadline pass, the order amount is within the automatic
limit and the rule is on in the policy the case pinned; the "seller silent" rule refunds any claim
within the limit. When no rule holds, the unanswered case goes to an agent instead. Every
automatic decision names its rule and facts and can be appealed to a senior agent.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from disputes import services
from disputes.exceptions import TransitionRefused
from disputes.models import Case, Decision, Notification, Outcome, RefundInstruction
from policies.services import policy_save
from tests import factories
from tests.disputes.automation.conftest import SECOND, run_across
from tests.disputes.case_states import refused, reload

S = Case.State
LIMIT = Decimal("100.00")
ORDER_AMOUNT = Decimal("80.00")
NOT_RECEIVED_TITLE = "Item not received, no delivery scan, seller silent"
SELLER_SILENT_TITLE = "Seller silent past the deadline"
ESCALATION_REASON = "The seller did not answer in time"


@pytest.fixture
def policy(db, clock):
    """Automatic resolution up to 100.00 with the "not received" rule on (its default); no reminders."""
    return factories.dispute_policy(reminder_hours=0, auto_resolve_limit=LIMIT)


def edit_rules(policy, **rules):
    for name, value in rules.items():
        setattr(policy, name, value)
    return policy_save(policy=policy, actor=None, reason="Automatic rules changed")


def file_case(buyer, seller, *, amount=ORDER_AMOUNT, delivered=False, reason="not_received", claimed=None) -> Case:
    order = factories.order(buyer=buyer, seller=seller, amount=amount, delivered_days_ago=2 if delivered else None)
    return factories.case(
        order_=order, reason=reason, requested_outcome="full_refund", amount_claimed=claimed or amount
    )


def assert_escalated_by_person(case: Case, run) -> None:
    case = reload(case)
    assert case.state == S.ESCALATED
    assert run.case_reasons(case) == [ESCALATION_REASON]
    assert not Decision.objects.filter(case=case).exists()
    assert not RefundInstruction.objects.filter(case=case).exists()


# The "not received" rule


def test_not_received_rule_refunds_in_full_when_every_condition_holds(clock, deadlines, policy, buyer, seller):
    case = file_case(buyer, seller)
    due = case.seller_answer_due_at

    run = run_across(due, clock=clock, deadlines=deadlines, case=case, state=S.OPEN)

    assert run.summary == "1 resolved by rule"
    case = reload(case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, Outcome.FULL_REFUND, ORDER_AMOUNT)
    assert case.appeal_until == due + SECOND + 7 * (24 * 3600 * SECOND)
    assert run.case_reasons(case) == [f"Automatic decision: Full refund. Rule: {NOT_RECEIVED_TITLE}"]
    refund = RefundInstruction.objects.get(case=case)
    assert (refund.amount, refund.status) == (ORDER_AMOUNT, RefundInstruction.Status.SENT)
    text = f"Case {case.reference} was resolved by rule: the seller did not answer in time."
    notes = Notification.objects.filter(case=case).select_related("recipient")
    assert {note.recipient: note.text for note in notes} == {buyer: text, seller: text}

    again = deadlines()
    assert (again.summary, again.history) == ("nothing due", [])
    assert (Decision.objects.filter(case=case).count(), RefundInstruction.objects.filter(case=case).count()) == (1, 1)


def test_not_received_rule_records_the_rule_and_the_facts_it_saw(clock, deadlines, policy, buyer, seller):
    case = file_case(buyer, seller, claimed=Decimal("50.00"))
    clock.just_after(case.seller_answer_due_at)

    deadlines()

    decision = Decision.objects.get(case=case)
    assert (decision.stage, decision.rule, decision.outcome) == (
        Decision.Stage.AUTOMATIC,
        "not_received",
        Outcome.FULL_REFUND,
    )
    assert decision.amount == ORDER_AMOUNT  # the whole order: nothing arrived
    assert (decision.decided_by, decision.decided_at) == (services.system_user(), case.seller_answer_due_at + SECOND)
    assert decision.facts == {
        "reason": "not_received",
        "seller_answer_due_at": case.seller_answer_due_at.isoformat(),
        "seller_answered": False,
        "amount_claimed": "50.00",
        "automatic_limit": "100.00",
        "policy_version": 1,
        "delivery_scan": False,
        "order_amount": "80.00",
    }
    assert NOT_RECEIVED_TITLE in decision.rationale
    assert "version 1" in decision.rationale
    assert "appeal" in decision.rationale
    recorded = decision.history.get()
    assert (recorded.history_user, recorded.history_change_reason) == (
        services.system_user(),
        f"Automatic decision recorded: {NOT_RECEIVED_TITLE}",
    )


def test_not_received_rule_shows_on_the_case_page_with_its_facts(clock, deadlines, policy, buyer, seller, client):
    case = file_case(buyer, seller)
    clock.just_after(case.seller_answer_due_at)
    deadlines()
    client.force_login(buyer)

    page = client.get(case.get_absolute_url()).text

    assert NOT_RECEIVED_TITLE in page
    assert "not_received" in page  # the reason the rule saw


def test_not_received_rule_fires_for_an_order_exactly_at_the_limit(clock, deadlines, policy, buyer, seller):
    case = file_case(buyer, seller, amount=LIMIT)
    clock.just_after(case.seller_answer_due_at)

    assert deadlines().summary == "1 resolved by rule"
    assert reload(case).refund_amount == LIMIT


# One condition false: a person decides


ONE_CONDITION_FALSE = {
    "another reason": ({}, {"reason": "damaged", "delivered": True}),
    "a delivery scan": ({}, {"delivered": True}),
    "the reason alone without a scan": ({}, {"reason": "not_as_described"}),
    "an order over the limit": ({}, {"amount": Decimal("100.01"), "claimed": Decimal("30.00")}),
    "the rule switched off": ({"auto_rule_not_received": False}, {}),
    "no automatic limit": ({"auto_resolve_limit": Decimal("0.00")}, {}),
}


@pytest.mark.parametrize("condition", list(ONE_CONDITION_FALSE))
def test_not_received_rule_with_one_condition_false_escalates_the_case_instead(
    condition, clock, deadlines, policy, buyer, seller
):
    rules, case_fields = ONE_CONDITION_FALSE[condition]
    if rules:
        edit_rules(policy, **rules)
    case = file_case(buyer, seller, **case_fields)
    clock.just_after(case.seller_answer_due_at)

    run = deadlines()

    assert run.summary == "1 escalated"
    assert_escalated_by_person(case, run)


def test_not_received_rule_does_not_fire_once_the_seller_has_answered(clock, deadlines, policy, buyer, seller):
    case = file_case(buyer, seller)
    services.offer_make(case=case, seller=seller, kind="partial_refund", amount=Decimal("40.00"))
    services.offer_decline(case=case, buyer=buyer, note="I want all of it back.")
    clock.just_after(case.seller_answer_due_at)

    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.OPEN
    with refused(case, TransitionRefused):
        services.case_resolve_by_rule(case=case)


def test_case_resolve_by_rule_is_refused_when_no_rule_holds(clock, policy, buyer, seller):
    case = file_case(buyer, seller, delivered=True)
    clock.just_after(case.seller_answer_due_at)

    with refused(case, TransitionRefused) as excinfo:
        services.case_resolve_by_rule(case=case)

    assert excinfo.value.message == "No automatic rule of the policy applies to this case."


def test_case_resolve_by_rule_is_refused_to_an_agent(clock, policy, buyer, seller, agent):
    case = file_case(buyer, seller)
    clock.just_after(case.seller_answer_due_at)

    with refused(case, PermissionDenied):
        services.case_resolve_by_rule(case=case, actor=agent)


# The "seller silent" rule


@pytest.mark.parametrize(
    ("claimed", "outcome", "label"),
    [(Decimal("30.00"), Outcome.PARTIAL_REFUND, "Partial refund"), (ORDER_AMOUNT, Outcome.FULL_REFUND, "Full refund")],
)
def test_seller_silent_rule_refunds_the_claim_within_the_limit(
    claimed, outcome, label, clock, deadlines, policy, buyer, seller
):
    edit_rules(policy, auto_rule_not_received=False, auto_rule_seller_silent=True)
    case = file_case(buyer, seller, delivered=True, reason="damaged", claimed=claimed)
    clock.just_after(case.seller_answer_due_at)

    run = deadlines()

    assert run.summary == "1 resolved by rule"
    case = reload(case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, outcome, claimed)
    assert run.case_reasons(case) == [f"Automatic decision: {label}. Rule: {SELLER_SILENT_TITLE}"]
    decision = Decision.objects.get(case=case)
    assert (decision.stage, decision.rule, decision.amount) == (Decision.Stage.AUTOMATIC, "seller_silent", claimed)
    assert decision.facts["amount_claimed"] == str(claimed)
    assert decision.facts["reason"] == "damaged"
    assert RefundInstruction.objects.get(case=case).amount == claimed


def test_seller_silent_rule_escalates_a_claim_over_the_limit(clock, deadlines, policy, buyer, seller):
    edit_rules(policy, auto_rule_seller_silent=True, auto_resolve_limit=Decimal("50.00"))
    case = file_case(buyer, seller, delivered=True, reason="damaged", claimed=Decimal("50.01"))
    clock.just_after(case.seller_answer_due_at)

    run = deadlines()

    assert run.summary == "1 escalated"
    assert_escalated_by_person(case, run)


def test_seller_silent_rule_is_off_unless_the_policy_turns_it_on(clock, deadlines, policy, buyer, seller):
    case = file_case(buyer, seller, delivered=True, reason="damaged", claimed=Decimal("30.00"))
    clock.just_after(case.seller_answer_due_at)

    assert deadlines().summary == "1 escalated"


@pytest.mark.parametrize(("delivered", "rule"), [(False, "not_received"), (True, "seller_silent")])
def test_auto_resolution_with_both_rules_on_applies_the_first_that_holds(
    delivered, rule, clock, deadlines, policy, buyer, seller
):
    edit_rules(policy, auto_rule_seller_silent=True)
    case = file_case(buyer, seller, delivered=delivered, claimed=Decimal("30.00"))
    clock.just_after(case.seller_answer_due_at)

    deadlines()

    assert Decision.objects.get(case=case).rule == rule


# The pinned policy


def test_auto_resolution_follows_the_rules_pinned_at_filing_not_a_later_edit(clock, deadlines, policy, buyer, seller):
    case = file_case(buyer, seller)
    edit_rules(policy, auto_rule_not_received=False, auto_resolve_limit=Decimal("0.00"))
    clock.just_after(case.seller_answer_due_at)

    assert deadlines().summary == "1 resolved by rule"
    decision = Decision.objects.get(case=case)
    assert (decision.rule, decision.facts["policy_version"], decision.facts["automatic_limit"]) == (
        "not_received",
        1,
        "100.00",
    )


def test_auto_resolution_switched_on_after_filing_does_not_apply_to_the_case(clock, deadlines, policy, buyer, seller):
    edit_rules(policy, auto_rule_not_received=False)
    case = file_case(buyer, seller)
    edit_rules(policy, auto_rule_not_received=True)
    clock.just_after(case.seller_answer_due_at)

    run = deadlines()

    assert run.summary == "1 escalated"
    assert_escalated_by_person(case, run)


# Appeals


@pytest.mark.parametrize("appellant", ["buyer", "seller"])
def test_auto_resolution_appeal_goes_to_a_senior_agent_not_a_plain_agent(
    appellant, clock, deadlines, policy, buyer, seller, agent, senior
):
    case = file_case(buyer, seller)
    clock.just_after(case.seller_answer_due_at)
    deadlines()
    party = {"buyer": buyer, "seller": seller}[appellant]

    services.case_appeal(case=case, party=party, grounds="A person should look at this.")

    case = reload(case)
    assert (case.state, case.agent, case.appealed_by) == (S.APPEALED, None, party)
    assert services.case_take_next(agent=agent) is None
    assert reload(case).agent is None
    taken = services.case_take_next(agent=senior)
    assert taken == case
    assert reload(case).agent == senior
    assert case.history.latest().history_change_reason == "Appeal taken by senior"


def test_auto_resolution_upheld_on_appeal_refunds_nothing_more(clock, deadlines, policy, buyer, seller, senior):
    case = file_case(buyer, seller)
    clock.just_after(case.seller_answer_due_at)
    deadlines()
    services.case_appeal(case=case, party=seller, grounds="The parcel was handed to the carrier.")
    services.case_take_next(agent=senior)

    services.case_decide_appeal(
        case=case, agent=senior, outcome=Outcome.FULL_REFUND, amount=None, rationale="No scan; policy 3.1 applies."
    )

    case = reload(case)
    assert case.state == S.CLOSED
    assert list(Decision.objects.filter(case=case).values_list("stage", flat=True)) == ["automatic", "appeal"]
    assert RefundInstruction.objects.filter(case=case).count() == 1
