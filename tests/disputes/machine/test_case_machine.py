"""The case state machine as a table: every transition, from every state, by every actor.

Transitions are fired through the services, as the portal, the console, the API and the
automation fire them. An allowed move must land in its target with one audit row naming the
actor and the reason; a refusal must leave the case exactly as it was (same state, same
history, no offers, decisions or refunds written).

The clock is frozen at NOW; a row that needs time to pass says how much (`wait`).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Callable

import pytest
from django.core.exceptions import PermissionDenied

from disputes import services
from disputes.exceptions import TransitionRefused
from disputes.models import Case
from tests.disputes.case_states import OFFERED_AMOUNT, bring_to, refused, reload
from tests.disputes.machine.rules import (
    ACTORS,
    AGENT_DECISION,
    APPEAL_WINDOW,
    BUYER_ANSWER,
    BUYER_WAIT,
    CLAIMED,
    GROUNDS,
    LONG_AFTER,
    NOW,
    ORDER_AMOUNT,
    PROPOSED,
    RATIONALE,
    RETURN_SHIPPING,
    SECOND,
    SELLER_ANSWER,
    S,
    fire,
)

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
