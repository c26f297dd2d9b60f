"""How a case reads to the person looking at it: its status in plain words, whose move it is,
the next deadline, the actions open to them now, and its timeline.

Actions come from the state machine (the transitions this user may fire from this state);
nothing here restates a rule.
"""

from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

from disputes.models import Case, Offer
from disputes.permissions import is_agent, is_case_buyer, is_case_seller, is_senior_agent

S = Case.State


@dataclass(frozen=True)
class Status:
    label: str  # the state in plain words, from this side
    move: str  # whose move it is
    due_at: datetime | None  # the next deadline that matters to this side
    tone: str  # "you", "them", "us", "done": how the badge is coloured


def perspective(case: Case, user) -> str:
    if is_case_buyer(case, user):
        return "buyer"
    if is_case_seller(case, user):
        return "seller"
    return "agent"


def case_status(case: Case, user) -> Status:
    side = perspective(case, user)
    state = case.state
    if state == S.OPEN:
        if side == "seller":
            return Status("Needs your answer", "Your answer is needed", case.seller_answer_due_at, "you")
        return Status("Waiting for the seller", "Waiting for the seller", case.seller_answer_due_at, "them")
    if state == S.AWAITING_BUYER:
        if side == "buyer":
            return Status("Your answer is needed", "Your answer is needed by", case.buyer_answer_due_at, "you")
        return Status("Waiting for the buyer", "Waiting for the buyer until", case.buyer_answer_due_at, "them")
    if state in (S.ESCALATED, S.IN_MEDIATION):
        return Status("With our team", "We aim to decide by", case.agent_decision_due_at, "us")
    if state == S.AWAITING_RETURN:
        if case.return_shipped_at:
            if side == "seller":
                return Status("Return on its way", "Confirm when it arrives", case.return_due_at, "you")
            return Status("Return on its way", "Waiting for the seller to confirm", case.return_due_at, "them")
        if side == "buyer":
            return Status("Send the item back", "Send the item back", case.return_due_at, "you")
        return Status("Waiting for the return", "Waiting for the buyer to send it", case.return_due_at, "them")
    if state == S.RESOLVED:
        return Status(
            f"Resolved: {case.get_outcome_display().lower()}", "Either side may appeal until", case.appeal_until, "done"
        )
    if state == S.APPEALED:
        return Status("Under appeal", "With our team", None, "us")
    if state == S.CLOSED:
        label = f"Closed: {case.get_outcome_display().lower()}" if case.outcome else "Closed"
        return Status(label, "Closed", None, "done")
    return Status("Withdrawn", "Withdrawn", None, "done")


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    enabled: bool = True
    hint: str = ""
    available_from: datetime | None = None


# Transitions a party fires from their page; the rest belong to agents and the system.
PARTY_ACTIONS = [
    "make_offer",
    "accept_claim",
    "decline_claim",
    "accept_offer",
    "decline_offer",
    "escalate",
    "confirm_return",
    "appeal",
    "withdraw",
]


def case_actions(case: Case, user) -> list[Action]:
    """The party's transitions from this state that they may fire, disabled where a condition
    says "not yet" (with the date it opens when there is one)."""
    actions = []
    for transition in case.get_all_state_transitions():
        if transition.source != case.state or transition.name not in PARTY_ACTIONS:
            continue
        if not transition.has_perm(case, user):
            continue
        label = transition.custom.get("label", transition.name)
        ready = all(condition(case) for condition in transition.conditions)
        if ready:
            actions.append(Action(transition.name, label))
        elif transition.name == "escalate":
            actions.append(
                Action(
                    transition.name,
                    label,
                    enabled=False,
                    available_from=case.buyer_may_escalate_at,
                    hint="You can ask us to step in from",
                )
            )
    return sorted(actions, key=lambda action: PARTY_ACTIONS.index(action.name))


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # "change", "message", "evidence", "offer"
    who: str
    text: str = ""
    item: object = None
    extra: dict = field(default_factory=dict)


def case_timeline(case: Case, user, *, history, messages, evidence, offers) -> list[Entry]:
    """Everything that happened on the case, oldest first, as this user may see it."""
    names = _Names(case)
    changes = [
        Entry(
            row.history_date,
            "change",
            names.of(row.history_user),
            row.history_change_reason or "",
            extra={"state": S(row.state).label},
        )
        for row in history
    ]
    said = [Entry(m.created_at, "message", names.of(m.author), m.body, item=m) for m in messages]
    shown = [Entry(e.created_at, "evidence", names.of(e.uploaded_by), e.description, item=e) for e in evidence]
    offered = [Entry(o.created_at, "offer", names.of(o.made_by), o.note, item=o) for o in offers]
    return sorted(chain(changes, said, shown, offered), key=lambda entry: entry.at)


class _Names:
    """Who someone is on this case: 'Buyer (Bea Byers)', 'Seller (…)', 'Support team', 'Automatic'."""

    def __init__(self, case: Case):
        self.case = case

    def of(self, user) -> str:
        if user is None:
            return "Support desk"
        name = user.get_full_name() or user.username
        if user.pk == self.case.buyer_id:
            return f"Buyer · {name}"
        if user.pk == self.case.seller_id:
            return f"Seller · {name}"
        if not user.has_usable_password() and not user.is_active:
            return "Automatic"
        return f"Support team · {user.first_name or name}"


def pending_offer(offers) -> Offer | None:
    return next((offer for offer in offers if offer.status == Offer.Status.PENDING), None)


# The staff console


@dataclass(frozen=True)
class ConsoleActions:
    """What the agent looking at a case may do from the workspace. The transitions come from the
    state machine; the other steps mirror their service's check (the service stays the judge)."""

    claim: bool = False  # take this escalated case
    take_appeal: bool = False  # a senior agent takes an appeal nobody has yet
    propose: bool = False
    decide: bool = False
    decide_held_until: datetime | None = None  # requested evidence holds the decision until then
    decide_appeal: bool = False
    request_evidence: bool = False
    reassign: bool = False
    write: bool = False  # to the parties; internal notes are always open to agents

    @property
    def assigned_work(self) -> bool:
        return self.propose or self.decide or bool(self.decide_held_until) or self.decide_appeal or self.request_evidence


def console_actions(case: Case, user, *, decisions, evidence_requests) -> ConsoleActions:
    transitions = {transition.name for transition in case.get_available_user_state_transitions(user)}
    assigned = is_agent(case, user) and case.agent_id == user.pk
    working = case.state in (S.IN_MEDIATION, S.APPEALED)
    held_until = None
    if case.state == S.IN_MEDIATION and assigned and "decide" not in transitions:
        open_requests = [request.due_at for request in evidence_requests if request.is_outstanding]
        held_until = max(open_requests) if open_requests else None
    return ConsoleActions(
        claim="claim" in transitions,
        take_appeal=(
            case.state == S.APPEALED
            and case.agent_id is None
            and is_senior_agent(case, user)
            and all(decision.decided_by_id != user.pk for decision in decisions)
        ),
        propose=case.state == S.IN_MEDIATION and assigned,
        decide="decide" in transitions,
        decide_held_until=held_until,
        decide_appeal="decide_appeal" in transitions,
        request_evidence=working and assigned,
        reassign=working and is_agent(case, user),
        write=case.state not in (S.CLOSED, S.WITHDRAWN),
    )
