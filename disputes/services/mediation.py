"""The agents' work: taking and assigning cases, evidence requests, proposals and decisions."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from disputes.events import announce
from disputes.exceptions import CaseChanged, InvalidInput
from disputes.models import AgentStatus, Case, Decision, EvidenceRequest, Offer, Outcome
from disputes.permissions import is_agent, is_agent_user, is_assigned_agent, is_senior_agent, is_senior_agent_user
from disputes.services._common import (
    event_for,
    lock_case,
    refusal,
    refuse_unstorable,
    save_with_history,
    system_user,
)
from disputes.services._machine import (
    check_transition,
    fire_transition,
    lapse_pending_offer,
    put_offer,
    remedy_amount,
    run_transition,
)


def case_claim(*, case: Case, agent) -> Case:
    if not is_agent(case, agent):  # the system assigns through `assign_escalation_automatically`
        raise PermissionDenied("Only an agent who is not a party takes a case.")
    return run_transition(case, "claim", agent, "Agent took the case for mediation", agent=agent)


@transaction.atomic
def case_take_next(*, agent) -> Case | None:
    """Give the agent the most urgent unassigned case they may take; None when there is none.

    Rows another agent is taking are skipped (SKIP LOCKED), so two agents pressing "take next"
    at once get two different cases.
    """
    senior = is_senior_agent_user(agent)
    states = [Case.State.ESCALATED] + ([Case.State.APPEALED] if senior else [])
    # Seniors get the cases raised to them (undecided long past the target) first.
    urgency = [F("raised_to_seniors_at").asc(nulls_last=True)] if senior else []
    candidates = (
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("order", "policy_version")
        .filter(state__in=states, agent__isnull=True)
        .exclude(buyer=agent)
        .exclude(seller=agent)
        .order_by(*urgency, "agent_decision_due_at", "pk")
    )
    # One row at a time: FOR UPDATE locks every row a query returns, so taking a batch would
    # lock the cases the agent does not take too, and a colleague pressing at once would get none.
    passed_over = []
    for _ in range(20):
        case = candidates.exclude(pk__in=passed_over).first()
        if case is None:
            return None
        if case.state == Case.State.APPEALED:
            if case.decisions.filter(decided_by=agent).exists():
                passed_over.append(case.pk)
                continue
            return _assign_appeal(case, agent, actor=agent)
        try:
            return fire_transition(case, "claim", agent, "Agent took the next case", at=timezone.now(), agent=agent)
        except CaseChanged:
            passed_over.append(case.pk)
    return None


@transaction.atomic
def appeal_claim(*, case: Case, agent) -> Case:
    """A senior agent who did not decide the case takes its appeal."""
    case = lock_case(case)
    if case.state != Case.State.APPEALED:
        raise refusal(case, "appeal_claim", agent, "Only a case under appeal is taken this way.")
    if not is_senior_agent(case, agent):
        raise PermissionDenied("Appeals go to senior agents.")
    if case.agent_id is not None:
        raise refusal(case, "appeal_claim", agent, "Another senior agent has this appeal.")
    if case.decisions.filter(decided_by=agent).exists():
        raise refusal(case, "appeal_claim", agent, "You decided this case; another senior agent reviews the appeal.")
    return _assign_appeal(case, agent, actor=agent)


def _assign_appeal(case: Case, agent, *, actor) -> Case:
    case.agent = agent
    save_with_history(case, actor=actor, reason=f"Appeal taken by {agent.get_full_name() or agent.username}")
    announce(event_for("appeal_taken", case, actor=actor, from_state=case.state, at=timezone.now()))
    return case


def assign_escalation_automatically(case: Case, *, at: datetime) -> Case:
    """Round robin among available agents under their cap; leaves the case queued if none.

    Runs inside the escalating transaction, on the locked case.
    """
    statuses = (
        AgentStatus.objects.select_for_update()
        .filter(is_available=True)
        .select_related("agent")
        .order_by(F("last_assigned_at").asc(nulls_first=True), "pk")
    )
    open_cases = dict(
        Case.objects.filter(state=Case.State.IN_MEDIATION, agent__in=[s.agent_id for s in statuses])
        .values_list("agent")
        .annotate(n=Count("pk"))
    )
    for status in statuses:
        if open_cases.get(status.agent_id, 0) >= settings.AGENT_MAX_OPEN_CASES or not is_agent(case, status.agent):
            continue
        status.last_assigned_at = at
        status.save(update_fields=["last_assigned_at"])
        name = status.agent.get_full_name() or status.agent.username
        return fire_transition(
            case, "claim", system_user(), f"Assigned to {name} automatically", at=at, agent=status.agent
        )
    return case


@transaction.atomic
def agent_set_available(*, agent, available: bool):
    """An agent opts in or out of automatic assignment."""
    if not is_agent_user(agent):
        raise PermissionDenied("Only agents take assignments.")
    status, _ = AgentStatus.objects.update_or_create(agent=agent, defaults={"is_available": available})
    return status


@transaction.atomic
def evidence_request_create(*, case: Case, agent, party, note: str, due_at: datetime):
    """The assigned agent asks the buyer or the seller for evidence by a date."""
    case = lock_case(case)
    if case.state not in (Case.State.IN_MEDIATION, Case.State.APPEALED):
        raise refusal(case, "evidence_request", agent, "Evidence is requested while we mediate or review an appeal.")
    if not (is_agent(case, agent) and case.agent_id == agent.pk):
        raise PermissionDenied("Only the agent assigned to the case requests evidence.")
    errors = {}
    if party is None or party.pk not in (case.buyer_id, case.seller_id):
        errors["party"] = ["Ask the buyer or the seller."]
    if not (note or "").strip():
        errors["note"] = ["Say what you need."]
    if due_at is None or due_at <= timezone.now():
        errors["due_at"] = ["Choose a date in the future."]
    if errors:
        raise InvalidInput("The request is not complete.", errors=errors)
    refuse_unstorable(note=note)
    now = timezone.now()
    request = EvidenceRequest.objects.create(
        case=case, requested_from=party, requested_by=agent, note=note.strip(), due_at=due_at, created_at=now
    )
    side = "buyer" if party.pk == case.buyer_id else "seller"
    save_with_history(case, actor=agent, reason=f"Evidence requested from the {side} by {due_at:%Y-%m-%d %H:%M} UTC")
    announce(event_for("evidence_requested", case, actor=agent, from_state=case.state, at=now, request_id=request.pk))
    return request


@transaction.atomic
def case_reassign(*, case: Case, actor, agent) -> Case:
    """Hand a case in mediation or under appeal to another agent."""
    case = lock_case(case)
    if not is_agent(case, actor):
        raise PermissionDenied("Only agents reassign cases.")
    if case.state not in (Case.State.IN_MEDIATION, Case.State.APPEALED):
        raise refusal(case, "reassign", actor, "Only a case in mediation or under appeal can be reassigned.")
    allowed = is_senior_agent if case.state == Case.State.APPEALED else is_agent
    if not allowed(case, agent):
        raise InvalidInput("That person cannot take this case.", errors={"agent": ["Not an eligible agent."]})
    previous = case.agent
    case.agent = agent
    save_with_history(case, actor=actor, reason=f"Reassigned from {previous or 'nobody'} to {agent}")
    announce(event_for("reassigned", case, actor=actor, from_state=case.state, at=timezone.now()))
    return case


@transaction.atomic
def proposal_make(*, case: Case, agent, kind: str, amount: Decimal | None = None, note: str = "") -> Offer:
    """The assigned agent proposes an outcome for both parties to accept."""
    now = timezone.now()
    case = lock_case(case)
    if case.state != Case.State.IN_MEDIATION:
        raise refusal(case, "propose", agent, "Only a case in mediation takes a proposal.")
    if not is_assigned_agent(case, agent):
        raise PermissionDenied("Only the agent assigned to the case proposes an outcome.")
    amount = remedy_amount(case, kind=kind, amount=amount)
    offer = put_offer(
        case,
        made_by=agent,
        role=Offer.Role.AGENT,
        kind=kind,
        amount=amount,
        note=note,
        at=now,
        invalid_message="The proposal is not valid.",
        reason="Agent proposed an outcome",
    )
    announce(event_for("proposed", case, actor=agent, from_state=case.state, at=now, offer_id=offer.pk))
    return offer


@transaction.atomic
def case_decide(*, case: Case, agent, outcome: str, amount: Decimal | None, rationale: str) -> Decision:
    """The assigned agent sets a binding outcome. Locks the case: two agents give one decision."""
    return _decide(case, "decide", Decision.Stage.MEDIATION, agent, outcome, amount, rationale)


@transaction.atomic
def case_decide_appeal(*, case: Case, agent, outcome: str, amount: Decimal | None, rationale: str) -> Decision:
    """A senior agent settles an appeal; any refund beyond what was paid is instructed."""
    return _decide(case, "decide_appeal", Decision.Stage.APPEAL, agent, outcome, amount, rationale)


def _decide(case, action, stage, agent, outcome, amount, rationale) -> Decision:
    now = timezone.now()
    case = lock_case(case)
    check_transition(case, action, agent)
    if not (rationale or "").strip():
        raise InvalidInput("Explain the decision and the policy it rests on.", errors={"rationale": ["Required."]})
    refuse_unstorable(rationale=rationale)
    amount = remedy_amount(case, kind=outcome, amount=amount)
    lapse_pending_offer(case, actor=agent, at=now)
    already_refunded = sum((r.amount for r in case.refunds.all()), Decimal("0"))
    case = fire_transition(
        case,
        action,
        agent,
        f"{stage.label} decision: {Outcome(outcome).label}. {rationale.strip()}",
        at=now,
        outcome=outcome,
        refund_amount=amount,
        refund_due=(amount or Decimal("0")) - already_refunded if stage == Decision.Stage.APPEAL else None,
    )
    decision = Decision(
        case=case,
        stage=stage,
        outcome=outcome,
        amount=amount,
        rationale=rationale.strip(),
        decided_by=agent,
        decided_at=now,
    )
    decision.full_clean()
    save_with_history(decision, actor=agent, reason=f"{stage.label} decision recorded")
    return decision
