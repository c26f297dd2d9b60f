"""The case state machine as a table: every transition, from every state, by every actor.

Transitions are fired through the services, as the portal, the console, the API and the
automation fire them. An allowed move must land in its target with one audit row naming the
actor and the reason; a refusal must leave the case exactly as it was (same state, same
history, no offers, decisions or refunds written).

The clock is frozen at NOW; a row that needs time to pass says how much (`wait`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Callable

import pytest
from django.core.exceptions import PermissionDenied

from disputes import services
from disputes.exceptions import TransitionRefused
from disputes.models import Case, Decision
from policies.services import policy_save
from tests import factories
from tests.disputes.case_states import OFFERED_AMOUNT, bring_to, footprint, refused, reload

S = Case.State
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)

# The rules `factories.dispute_policy` sets, which every case here pins when it is filed.
SELLER_ANSWER = timedelta(hours=72)
BUYER_WAIT = timedelta(hours=72)
AGENT_DECISION = timedelta(hours=48)
RETURN_SHIPPING = timedelta(days=10)
APPEAL_WINDOW = timedelta(days=7)
BUYER_ANSWER = timedelta(hours=120)
LONG_AFTER = timedelta(days=60)  # every clock condition holds by then

CLAIMED = Decimal("30.00")  # what factories.case claims, on an order of 80.00
ORDER_AMOUNT = Decimal("80.00")
PROPOSED = Decimal("25.00")
RATIONALE = "Photos show the shade cracked in transit; disputes policy 4.2."
GROUNDS = "The agent ignored my photos."

ACTORS = ["buyer", "seller", "other_buyer", "other_seller", "agent", "other_agent", "senior", "system"]

PARAMS = {
    "make_offer": {"kind": "partial_refund", "amount": PROPOSED},
    "decide": {"outcome": "partial_refund", "amount": PROPOSED, "rationale": RATIONALE},
    "decide_appeal": {"outcome": "full_refund", "amount": None, "rationale": RATIONALE},
    "appeal": {"grounds": GROUNDS},
}


@pytest.fixture
def policy(db):
    """The factory policy with the automatic rule for unanswered claims switched on."""
    return factories.dispute_policy(auto_resolve_limit=Decimal("100.00"), auto_rule_seller_silent=True)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def people(buyer, seller, other_buyer, other_seller, agent, senior):
    """Everyone who might try a transition; `agent` is the one who claims cases in mediation."""
    return {
        "buyer": buyer,
        "seller": seller,
        "other_buyer": other_buyer,
        "other_seller": other_seller,
        "agent": agent,
        "other_agent": factories.agent_user(username="other_agent"),
        "senior": senior,
        "system": services.system_user(),
    }


def fire(name: str, case: Case, actor, **params):
    """Fire a transition by name the way adapters do; the proposal is adopted by answering it."""
    if name == "adopt_proposal":
        return services.proposal_answer(case=case, party=actor, accept=True)
    return services.case_transition(case=case, actor=actor, name=name, **{**PARAMS.get(name, {}), **params})


# What each move sets besides the state: (case, at, people) -> {field: value}.


def nothing_else(case, at, people):
    return {}


def platform_clock(case, at, people):
    return {
        "escalated_at": at,
        "agent_decision_due_at": at + AGENT_DECISION,
        "seller_answer_due_at": NOW + SELLER_ANSWER,
    }


def seller_declined(case, at, people):
    return {"seller_declined_at": at}


def deadline_unchanged(case, at, people):
    return {"seller_answer_due_at": NOW + SELLER_ANSWER, "seller_declined_at": None}


def resolved(outcome: str, amount: Decimal | None) -> Callable:
    def expect(case, at, people):
        return {"outcome": outcome, "refund_amount": amount, "resolved_at": at, "appeal_until": at + APPEAL_WINDOW}

    return expect


def closed(case, at, people):
    return {"closed_at": at}


def assigned_to(who: str) -> Callable:
    return lambda case, at, people: {"agent": people[who], "agent_decision_due_at": NOW + AGENT_DECISION}


def appealed_by(who: str) -> Callable:
    """The appeal waits unassigned for a senior agent, on a fresh decision clock."""
    return lambda case, at, people: {"appealed_by": people[who], "agent": None, "agent_decision_due_at": at + AGENT_DECISION}


def appeal_decided(case, at, people):
    return {"outcome": "full_refund", "refund_amount": ORDER_AMOUNT, "closed_at": at}


# Preparations a move needs beyond its source state.


def proposal_accepted_by(side: str) -> Callable:
    def prepare(case, people):
        services.proposal_make(case=case, agent=people["agent"], kind="partial_refund", amount=PROPOSED)
        services.proposal_answer(case=case, party=people[side], accept=True)

    return prepare


def appeal_taken_by_senior(case, people):
    services.appeal_claim(case=case, agent=people["senior"])


def proposal_made(case, people):
    services.proposal_make(case=case, agent=people["agent"], kind="partial_refund", amount=PROPOSED)


def proposal_rejected_by(side: str) -> Callable:
    def prepare(case, people):
        proposal_made(case, people)
        services.proposal_answer(case=case, party=people[side], accept=False)

    return prepare


def seller_declines_claim(case, people):
    services.case_decline_claim(case=case, seller=people["seller"])


@dataclass(frozen=True)
class Move:
    name: str
    source: str
    actor: str
    target: str
    reason: str
    wait: timedelta = timedelta(0)
    prepare: Callable | None = None
    expect: Callable = nothing_else

    def __str__(self):
        return f"{self.name}-from-{self.source}-by-{self.actor}"


# fmt: off
ALLOWED = [
    #    transition             from               by        to
    Move("make_offer",          S.OPEN,            "seller", S.AWAITING_BUYER,
         "Seller offered: Partial refund"),
    Move("make_offer",          S.AWAITING_BUYER,  "seller", S.AWAITING_BUYER,
         "Seller offered: Partial refund"),
    Move("decline_claim",       S.OPEN,            "seller", S.AWAITING_BUYER,
         "Seller declined the claim", expect=seller_declined),
    Move("accept_claim",        S.OPEN,            "seller", S.RESOLVED,
         "Seller accepted the claim", expect=resolved("partial_refund", CLAIMED)),
    Move("accept_claim",        S.AWAITING_BUYER,  "seller", S.RESOLVED,
         "Seller accepted the claim", expect=resolved("partial_refund", CLAIMED)),
    Move("accept_offer",        S.AWAITING_BUYER,  "buyer",  S.RESOLVED,
         "Buyer accepted the offer: Partial refund", expect=resolved("partial_refund", OFFERED_AMOUNT)),
    Move("decline_offer",       S.AWAITING_BUYER,  "buyer",  S.OPEN,
         "Buyer declined the offer", expect=deadline_unchanged),
    Move("escalate",            S.OPEN,            "buyer",  S.ESCALATED,
         "Buyer asked the platform to step in", wait=BUYER_WAIT, expect=platform_clock),
    Move("escalate",            S.AWAITING_BUYER,  "buyer",  S.ESCALATED,
         "Buyer asked the platform to step in", wait=BUYER_WAIT, expect=platform_clock),
    Move("escalate_unanswered", S.OPEN,            "system", S.ESCALATED,
         "The seller did not answer in time", wait=SELLER_ANSWER + SECOND, expect=platform_clock),
    Move("withdraw",            S.OPEN,            "buyer",  S.WITHDRAWN,
         "Buyer withdrew the case", expect=closed),
    Move("withdraw",            S.AWAITING_BUYER,  "buyer",  S.WITHDRAWN,
         "Buyer withdrew the case", expect=closed),
    Move("withdraw",            S.ESCALATED,       "buyer",  S.WITHDRAWN,
         "Buyer withdrew the case", expect=closed),
    Move("withdraw",            S.IN_MEDIATION,    "buyer",  S.WITHDRAWN,
         "Buyer withdrew the case", expect=closed),
    Move("claim",               S.ESCALATED,       "agent",  S.IN_MEDIATION,
         "Agent took the case for mediation", expect=assigned_to("agent")),
    Move("claim",               S.ESCALATED,       "senior", S.IN_MEDIATION,
         "Agent took the case for mediation", expect=assigned_to("senior")),
    Move("adopt_proposal",      S.IN_MEDIATION,    "seller", S.RESOLVED,
         "Both parties accepted the agent's proposal", expect=resolved("partial_refund", PROPOSED),
         prepare=proposal_accepted_by("buyer")),
    Move("adopt_proposal",      S.IN_MEDIATION,    "buyer",  S.RESOLVED,
         "Both parties accepted the agent's proposal", expect=resolved("partial_refund", PROPOSED),
         prepare=proposal_accepted_by("seller")),
    Move("decide",              S.IN_MEDIATION,    "agent",  S.RESOLVED,
         f"Mediation decision: Partial refund. {RATIONALE}", expect=resolved("partial_refund", PROPOSED)),
    Move("confirm_return",      S.AWAITING_RETURN, "seller", S.RESOLVED,
         "Seller confirmed the returned item arrived", expect=resolved("return_and_refund", OFFERED_AMOUNT)),
    Move("lapse_return",        S.AWAITING_RETURN, "system", S.RESOLVED,
         "The return window passed", wait=RETURN_SHIPPING + SECOND, expect=resolved("no_action", None)),
    Move("appeal",              S.RESOLVED,        "buyer",  S.APPEALED,
         f"Appeal: {GROUNDS}", expect=appealed_by("buyer")),
    Move("appeal",              S.RESOLVED,        "seller", S.APPEALED,
         f"Appeal: {GROUNDS}", expect=appealed_by("seller")),
    Move("decide_appeal",       S.APPEALED,        "senior", S.CLOSED,
         f"Appeal decision: Full refund. {RATIONALE}", expect=appeal_decided, prepare=appeal_taken_by_senior),
    Move("close",               S.RESOLVED,        "system", S.CLOSED,
         "The appeal window passed", wait=APPEAL_WINDOW + SECOND, expect=closed),
    Move("resolve_automatically", S.OPEN,          "system", S.RESOLVED,
         "Automatic decision: Partial refund. Rule: Seller silent past the deadline",
         wait=SELLER_ANSWER + SECOND, expect=resolved("partial_refund", CLAIMED)),
    Move("close_inactive",      S.AWAITING_BUYER,  "system", S.CLOSED,
         "Closed: the buyer did not answer the seller in time", wait=BUYER_ANSWER + SECOND, expect=closed),
]

WHO_MAY = {
    "make_offer":          {"seller"},
    "decline_claim":       {"seller"},
    "accept_claim":        {"seller"},
    "accept_offer":        {"buyer"},
    "decline_offer":       {"buyer"},
    "escalate":            {"buyer"},
    "escalate_unanswered": {"system"},
    "withdraw":            {"buyer"},
    "claim":               {"agent", "other_agent", "senior"},
    "adopt_proposal":      {"buyer", "seller"},
    "decide":              {"agent"},  # the assigned agent only
    "confirm_return":      {"seller"},
    "lapse_return":        {"system"},
    "appeal":              {"buyer", "seller"},
    "decide_appeal":       {"senior"},
    "close":               {"system"},
    "resolve_automatically": {"system"},
    "close_inactive":      {"system"},
}
# fmt: on

SOURCES = {name: {move.source for move in ALLOWED if move.name == name} for name in WHO_MAY}
FIRST_MOVE = {name: next(move for move in ALLOWED if move.name == name) for name in WHO_MAY}

WRONG_STATE = [
    pytest.param(name, state, id=f"{name}-from-{state}")
    for name in WHO_MAY
    for state in S.values
    if state not in SOURCES[name]
]

WRONG_ACTOR = [
    pytest.param(FIRST_MOVE[name], actor, id=f"{name}-by-{actor}")
    for name in WHO_MAY
    for actor in ACTORS
    if actor not in WHO_MAY[name]
]


def arrange(move: Move, case: Case, people, clock) -> Case:
    """Bring the case to the move's source, prepare it, and let the move's wait pass."""
    case = bring_to(move.source, case, agent=people["agent"], senior=people["senior"])
    if move.prepare:
        move.prepare(case, people)
    clock.shift(move.wait)
    return reload(case)


def test_case_machine_table_lists_every_transition_and_source():
    declared = {(t.name, t.source) for t in Case._meta.get_field("state").get_all_transitions(Case)}
    tabled = {(move.name, move.source) for move in ALLOWED}
    assert tabled == declared
    assert set(WHO_MAY) == {name for name, _ in declared}


@pytest.mark.parametrize("move", ALLOWED, ids=str)
def test_case_transition_by_right_actor_moves_case(move, open_case, people, clock):
    case = arrange(move, open_case, people, clock)
    history_before = case.history.count()

    fire(move.name, case, people[move.actor])

    case = reload(case)
    assert case.state == move.target
    assert case.history.count() == history_before + 1
    row = case.history.first()
    assert row.state == move.target
    assert row.history_user == people[move.actor]
    assert row.history_change_reason == move.reason
    expected = move.expect(case, NOW + move.wait, people)
    assert {name: getattr(case, name) for name in expected} == expected


@pytest.mark.parametrize(("name", "state"), WRONG_STATE)
def test_case_transition_from_wrong_state_is_refused(name, state, open_case, people, clock):
    case = bring_to(state, open_case, agent=people["agent"], senior=people["senior"])
    clock.shift(LONG_AFTER)  # so no clock condition is what refuses it: only the state

    with refused(case, TransitionRefused) as excinfo:
        fire(name, case, people[FIRST_MOVE[name].actor])
    assert excinfo.value.state == state
    if name != "adopt_proposal":  # answering a proposal says there is none to answer
        assert f"This case is {case.get_state_display().lower()}" in excinfo.value.message


@pytest.mark.parametrize(("move", "actor"), WRONG_ACTOR)
def test_case_transition_by_wrong_actor_is_refused(move, actor, open_case, people, clock):
    case = arrange(move, open_case, people, clock)

    with refused(case, PermissionDenied):
        fire(move.name, case, people[actor])


@dataclass(frozen=True)
class Blocked:
    """A move from its source state, by its right actor, whose condition does not hold."""

    name: str
    source: str
    actor: str
    why: str
    wait: timedelta = timedelta(0)
    prepare: Callable | None = None


# fmt: off
CONDITION_FALSE = [
    Blocked("escalate",            S.OPEN,            "buyer",  "seller-still-has-time"),
    Blocked("escalate",            S.OPEN,            "buyer",  "a-second-before-wait-ends", wait=BUYER_WAIT - SECOND),
    Blocked("escalate",            S.AWAITING_BUYER,  "buyer",  "offer-pending-before-wait-ends",
            wait=BUYER_WAIT - SECOND),
    Blocked("escalate_unanswered", S.OPEN,            "system", "seller-still-has-time"),
    Blocked("escalate_unanswered", S.OPEN,            "system", "at-the-deadline-itself", wait=SELLER_ANSWER),
    Blocked("accept_offer",        S.OPEN,            "buyer",  "seller-declined-no-offer",
            prepare=seller_declines_claim),
    Blocked("decline_offer",       S.OPEN,            "buyer",  "seller-declined-no-offer",
            prepare=seller_declines_claim),
    Blocked("adopt_proposal",      S.IN_MEDIATION,    "buyer",  "no-proposal"),
    Blocked("adopt_proposal",      S.IN_MEDIATION,    "buyer",  "seller-rejected-it",
            prepare=proposal_rejected_by("seller")),
    Blocked("adopt_proposal",      S.IN_MEDIATION,    "buyer",  "buyer-answered-already",
            prepare=proposal_accepted_by("buyer")),
    Blocked("lapse_return",        S.AWAITING_RETURN, "system", "return-window-open"),
    Blocked("lapse_return",        S.AWAITING_RETURN, "system", "at-the-return-deadline", wait=RETURN_SHIPPING),
    Blocked("appeal",              S.RESOLVED,        "buyer",  "after-the-window", wait=APPEAL_WINDOW + SECOND),
    Blocked("appeal",              S.RESOLVED,        "seller", "after-the-window", wait=APPEAL_WINDOW + SECOND),
    Blocked("close",               S.RESOLVED,        "system", "appeal-window-open"),
    Blocked("close",               S.RESOLVED,        "system", "on-the-last-day-to-appeal", wait=APPEAL_WINDOW),
    Blocked("resolve_automatically", S.OPEN,          "system", "seller-still-has-time", wait=SELLER_ANSWER),
    Blocked("close_inactive",      S.AWAITING_BUYER,  "system", "buyer-still-has-time", wait=BUYER_ANSWER),
]
# fmt: on


@pytest.mark.parametrize("blocked", CONDITION_FALSE, ids=lambda b: f"{b.name}-{b.why}")
def test_case_transition_with_condition_false_is_refused(blocked, open_case, people, clock):
    case = arrange(blocked, open_case, people, clock)

    with refused(case, TransitionRefused) as excinfo:
        fire(blocked.name, case, people[blocked.actor])
    assert excinfo.value.state == case.state


# Boundaries and paths the table does not show.


def test_case_escalate_right_after_seller_declines_needs_no_wait(open_case, buyer, seller):
    services.case_decline_claim(case=open_case, seller=seller)

    services.case_escalate(case=open_case, buyer=buyer)

    case = reload(open_case)
    assert case.state == S.ESCALATED
    assert case.agent_decision_due_at == NOW + AGENT_DECISION


def test_case_escalate_at_end_of_wait_is_allowed(open_case, buyer, clock):
    clock.move_to(open_case.buyer_may_escalate_at)

    services.case_escalate(case=open_case, buyer=buyer)

    assert reload(open_case).state == S.ESCALATED


def test_case_escalate_unanswered_is_refused_once_the_seller_has_answered(open_case, buyer, seller, clock):
    services.offer_make(case=open_case, seller=seller, kind="partial_refund", amount=OFFERED_AMOUNT)
    services.offer_decline(case=open_case, buyer=buyer)
    clock.shift(SELLER_ANSWER + SECOND)

    with refused(open_case, TransitionRefused):
        services.case_escalate_unanswered(case=open_case)

    # The buyer, whose wait has passed, can still ask for help.
    services.case_escalate(case=open_case, buyer=buyer)
    assert reload(open_case).state == S.ESCALATED


def test_case_escalate_unanswered_after_the_deadline_is_recorded_under_the_system(open_case, clock):
    clock.shift(SELLER_ANSWER + SECOND)

    services.case_escalate_unanswered(case=open_case)

    case = reload(open_case)
    assert case.state == S.ESCALATED
    assert case.history.first().history_user == services.system_user()
    assert case.history.first().history_change_reason == "The seller did not answer in time"


def test_case_deadlines_use_rules_pinned_at_filing(order, policy, people):
    pinned_case = factories.case(order_=order)
    policy.agent_decision_hours = 4
    policy.appeal_window_days = 2
    policy_save(policy=policy, actor=None, reason="Faster disputes")
    newer_case = factories.case(buyer=people["buyer"], seller=people["seller"])

    for case in (pinned_case, newer_case):
        bring_to(S.ESCALATED, case)
        services.case_claim(case=case, agent=people["agent"])
        services.case_decide(case=case, agent=people["agent"], **_mediation_decision())

    pinned_case, newer_case = reload(pinned_case), reload(newer_case)
    assert pinned_case.agent_decision_due_at == NOW + AGENT_DECISION
    assert pinned_case.appeal_until == NOW + APPEAL_WINDOW
    assert newer_case.agent_decision_due_at == NOW + timedelta(hours=4)
    assert newer_case.appeal_until == NOW + timedelta(days=2)


def test_case_appeal_on_last_moment_of_window_is_allowed(open_case, people, clock):
    case = bring_to(S.RESOLVED, open_case)
    clock.move_to(case.appeal_until)

    services.case_appeal(case=case, party=people["seller"], grounds=GROUNDS)

    assert reload(case).state == S.APPEALED


@pytest.mark.parametrize("second", ["buyer", "seller"])
def test_case_appeal_second_time_is_refused(second, open_case, people):
    case = bring_to(S.APPEALED, open_case)  # the buyer appealed

    with refused(case, TransitionRefused):
        services.case_appeal(case=case, party=people[second], grounds="Again.")


def test_case_appeal_after_appeal_decided_is_refused(open_case, people):
    case = bring_to(S.CLOSED, open_case, senior=people["senior"])

    with refused(case, TransitionRefused):
        services.case_appeal(case=case, party=people["seller"], grounds="Now me.")


@pytest.mark.parametrize("state", S.values)
def test_case_state_assignment_raises_attribute_error(state, open_case, people):
    case = bring_to(state, open_case, agent=people["agent"], senior=people["senior"])
    before = footprint(case)
    target = S.CLOSED if state != S.CLOSED else S.OPEN

    with pytest.raises(AttributeError):
        case.state = target

    assert case.state == state
    assert footprint(case) == before


@pytest.mark.parametrize("side", ["buyer", "seller"])
def test_case_claim_by_agent_who_is_party_is_refused(side, policy, people):
    parties = {"buyer": people["buyer"], "seller": people["seller"], side: people["agent"]}
    case = bring_to(S.ESCALATED, factories.case(**parties))

    with refused(case, PermissionDenied):
        services.case_claim(case=case, agent=people["agent"])


def test_case_decide_appeal_by_senior_who_is_party_is_refused(policy, people):
    case = bring_to(S.APPEALED, factories.case(buyer=people["buyer"], seller=people["senior"]))

    with refused(case, PermissionDenied):
        services.case_decide_appeal(case=case, agent=people["senior"], **_appeal_decision())


def test_case_decide_after_reassign_only_by_new_agent(open_case, people):
    case = bring_to(S.IN_MEDIATION, open_case, agent=people["agent"])
    services.case_reassign(case=case, actor=people["agent"], agent=people["other_agent"])

    with refused(case, PermissionDenied):
        services.case_decide(case=case, agent=people["agent"], **_mediation_decision())
    services.case_decide(case=case, agent=people["other_agent"], **_mediation_decision())

    case = reload(case)
    assert case.state == S.RESOLVED
    assert case.history.first().history_user == people["other_agent"]


def test_case_decide_appeal_by_mediating_agent_is_refused(open_case, people):
    """The agent who decided in mediation is not a senior agent: the appeal is not theirs."""
    case = bring_to(S.IN_MEDIATION, open_case, agent=people["agent"])
    services.case_decide(case=case, agent=people["agent"], **_mediation_decision())
    services.case_appeal(case=case, party=people["buyer"], grounds=GROUNDS)

    with refused(case, PermissionDenied):
        services.case_decide_appeal(case=case, agent=people["agent"], **_appeal_decision())


def test_case_decide_from_stale_copies_gives_one_decision(open_case, people):
    """Two agents working from the same page: the second gets a refusal, not a second decision."""
    case = bring_to(S.IN_MEDIATION, open_case, agent=people["agent"])
    first_copy, second_copy = reload(case), reload(case)
    services.case_decide(case=first_copy, agent=people["agent"], **_mediation_decision())

    with refused(case, TransitionRefused):
        services.case_decide(case=second_copy, agent=people["agent"], outcome="no_action", amount=None, rationale="-")

    assert Decision.objects.filter(case=case).count() == 1
    assert reload(case).outcome == "partial_refund"


def _mediation_decision():
    return {"outcome": "partial_refund", "amount": PROPOSED, "rationale": RATIONALE}


def _appeal_decision():
    return {"outcome": "full_refund", "amount": None, "rationale": RATIONALE}


def test_the_system_account_is_never_stored_able_to_sign_in(db):
    """Another process may read the account the moment it is inserted (two hosts running their
    first deadline pass at once): even then it must be the system account, not an ordinary one."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save

    from disputes.permissions import is_system_user

    stored_as = []

    def read_back(sender, instance, created, **kwargs):
        if created:
            stored_as.append(get_user_model().objects.get(pk=instance.pk))

    post_save.connect(read_back, sender=get_user_model(), dispatch_uid="test.system_account_read_back")
    try:
        system = services.system_user()
    finally:
        post_save.disconnect(dispatch_uid="test.system_account_read_back", sender=get_user_model())
    [first_read] = stored_as
    assert not first_read.has_usable_password() and not first_read.is_active
    assert is_system_user(first_read) and is_system_user(system)


def test_a_case_moved_by_someone_else_since_it_was_loaded_is_not_saved_over_it(open_case, people):
    """Two workers hold the same case: the one whose copy is stale cannot write its state back."""
    from django.db import transaction
    from django_fsm import ConcurrentTransition

    stale = Case.objects.get(pk=open_case.pk)
    fire("withdraw", reload(open_case), people["buyer"])

    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert reload(open_case).state != Case.State.OPEN
