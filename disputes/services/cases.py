"""Orders, filing, offers, transitions and decisions: the case lifecycle."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from disputes.clock import deadline_after
from disputes.events import announce
from disputes.exceptions import CaseChanged, FilingRefused, InvalidInput
from disputes.models import (
    REFUND_OUTCOMES,
    AgentStatus,
    Case,
    Decision,
    EvidenceRequest,
    Offer,
    Order,
    Outcome,
    RefundInstruction,
)
from disputes.permissions import (
    is_agent,
    is_agent_user,
    is_assigned_agent,
    is_case_buyer,
    is_case_party,
    is_senior_agent,
    is_senior_agent_user,
)
from disputes.ratelimits import rate_limit
from disputes.services._common import (
    changed_fields,
    event_for,
    field_values,
    lock_case,
    refusal,
    refuse_unstorable,
    save_with_history,
    system_user,
    validate,
    with_note,
)
from disputes.services.conversation import store_evidence
from disputes.services.refunds import refund_dispatch_after_commit
from policies.selectors import dispute_policy_in_force, policy_current_version

# Orders


@transaction.atomic
def order_upsert(*, external_id: str, actor=None, **fields) -> Order:
    """Create or update the mirror of a marketplace order, keyed by its external id."""
    order = Order.objects.select_for_update().filter(external_id=external_id).first()
    order = order or Order(external_id=external_id)
    for name, value in fields.items():
        setattr(order, name, value)
    validate(order, error=InvalidInput, message="The order is not valid.")
    order._history_user = actor
    order._change_reason = "Order received from the marketplace"
    order.save()
    return order


# Filing


@transaction.atomic
def case_file(
    *,
    buyer,
    order: Order,
    reason: str,
    requested_outcome: str,
    amount_claimed: Decimal,
    description: str,
    evidence: Sequence[UploadedFile] = (),
) -> Case:
    """Open a case on one of the buyer's orders under the dispute policy in force now.

    Evidence files are checked with the rest: a file that is refused opens no case.
    """
    now = timezone.now()
    order = Order.objects.select_for_update().get(pk=order.pk)  # one filing per order at a time
    if order.buyer_id != buyer.pk:
        raise PermissionDenied("Only the buyer of an order can open a case on it.")

    policy = dispute_policy_in_force(at=now)
    if policy is None:
        raise FilingRefused("No dispute policy is in force, so no case can be opened right now.")
    rules = policy_current_version(policy=policy)

    errors: dict[str, list[str]] = {}
    window_closes_at = order.filing_window_starts_at + timedelta(days=rules.filing_window_days)
    if now > window_closes_at:
        errors.setdefault("order", []).append(
            f"The time to open a case on this order ended on {window_closes_at:%d %b %Y}."
        )
    active = Case.objects.filter(order=order, state__in=Case.ACTIVE_STATES).first()
    if active is not None:
        errors.setdefault("order", []).append(f"This order already has an open case, {active.reference}.")
    if order.status == Order.Status.CANCELLED and reason != "billing":
        errors.setdefault("reason", []).append("A cancelled order can only have a billing problem.")
    if amount_claimed is None or not amount_claimed.is_finite() or amount_claimed <= 0:
        errors.setdefault("amount_claimed", []).append("Enter an amount above zero.")
    elif amount_claimed > order.amount:
        errors.setdefault("amount_claimed", []).append(
            f"You can claim at most the order amount, {order.amount} {order.currency}."
        )
    if not (description or "").strip():
        errors.setdefault("description", []).append("Tell us what happened.")
    if errors:
        raise FilingRefused("The case could not be opened.", errors=errors)
    rate_limit(user=buyer, filing=1, upload=len(evidence))

    case = Case(
        order=order,
        buyer=order.buyer,
        seller=order.seller,
        reason=reason,
        requested_outcome=requested_outcome,
        amount_claimed=amount_claimed,
        currency=order.currency,
        description=description.strip(),
        policy_version=rules,
        filed_at=now,
        seller_answer_due_at=deadline_after(now, rules, hours=rules.seller_answer_hours),
        buyer_may_escalate_at=deadline_after(now, rules, hours=rules.buyer_wait_hours),
        buyer_last_active_at=now,
    )
    validate(case, error=FilingRefused, message="The case could not be opened.")
    save_with_history(case, actor=buyer, reason="Case filed by the buyer")
    if evidence:
        store_evidence(case=case, uploader=buyer, files=evidence)
    announce(event_for("filed", case, actor=buyer, from_state="", at=now))
    return case


# Seller


@transaction.atomic
def offer_make(
    *, case: Case, seller, kind: str, amount: Decimal | None = None, note: str = "", return_address: str = ""
) -> Offer:
    """The seller offers a remedy; it replaces any offer still pending."""
    now = timezone.now()
    case = lock_case(case)
    check_transition(case, "make_offer", seller)
    amount = _remedy_amount(case, kind=kind, amount=amount)
    if kind == Outcome.RETURN_AND_REFUND and not return_address.strip():
        raise InvalidInput("Say where the item should be sent back.", errors={"return_address": ["Required."]})
    _supersede_pending_offer(case, actor=seller, at=now)
    offer = Offer(
        case=case,
        made_by=seller,
        made_by_role=Offer.Role.SELLER,
        kind=kind,
        amount=amount,
        note=note.strip(),
        return_address=return_address.strip(),
        created_at=now,
    )
    validate(offer, error=InvalidInput, message="The offer is not valid.")
    save_with_history(offer, actor=seller, reason="Offer made by the seller")
    fire_transition(case, "make_offer", seller, f"Seller offered: {offer.get_kind_display()}", at=now)
    return offer


def case_decline_claim(*, case: Case, seller, note: str = "") -> Case:
    return _transition(case, "decline_claim", seller, with_note("Seller declined the claim", note))


@transaction.atomic
def case_accept_claim(*, case: Case, seller) -> Case:
    """The seller grants what the buyer asked for; an offer of theirs still pending lapses."""
    now = timezone.now()
    case = lock_case(case)
    check_transition(case, "accept_claim", seller)
    _lapse_pending_offer(case, actor=seller, at=now)
    return fire_transition(case, "accept_claim", seller, "Seller accepted the claim", at=now)


def case_confirm_return(*, case: Case, seller) -> Case:
    return _transition(case, "confirm_return", seller, "Seller confirmed the returned item arrived")


# Buyer


@transaction.atomic
def offer_accept(*, case: Case, buyer) -> Case:
    now = timezone.now()
    case = lock_case(case)
    check_transition(case, "accept_offer", buyer)
    offer = case.pending_offer()
    case = fire_transition(
        case, "accept_offer", buyer, f"Buyer accepted the offer: {offer.get_kind_display()}", at=now, offer=offer
    )
    answer_offer(offer, status=Offer.Status.ACCEPTED, actor=buyer, at=now, buyer_answer=Offer.Answer.ACCEPTED)
    return case


@transaction.atomic
def offer_decline(*, case: Case, buyer, note: str = "") -> Case:
    now = timezone.now()
    case = lock_case(case)
    check_transition(case, "decline_offer", buyer)
    offer = case.pending_offer()
    case = fire_transition(case, "decline_offer", buyer, with_note("Buyer declined the offer", note), at=now)
    answer_offer(offer, status=Offer.Status.DECLINED, actor=buyer, at=now, buyer_answer=Offer.Answer.REJECTED)
    return case


@transaction.atomic
def case_escalate(*, case: Case, buyer, note: str = "") -> Case:
    """The buyer asks the platform to step in; a pending seller offer counts as declined."""
    now = timezone.now()
    case = lock_case(case)
    check_transition(case, "escalate", buyer)
    offer = case.pending_offer()
    if offer is not None:
        answer_offer(offer, status=Offer.Status.DECLINED, actor=buyer, at=now, buyer_answer=Offer.Answer.REJECTED)
    case = fire_transition(case, "escalate", buyer, with_note("Buyer asked the platform to step in", note), at=now)
    return assign_if_enabled(case, at=now)


@transaction.atomic
def case_withdraw(*, case: Case, buyer, note: str = "") -> Case:
    now = timezone.now()
    case = lock_case(case)
    check_transition(case, "withdraw", buyer)
    _lapse_pending_offer(case, actor=buyer, at=now)
    return fire_transition(case, "withdraw", buyer, with_note("Buyer withdrew the case", note), at=now)


@transaction.atomic
def case_mark_return_shipped(*, case: Case, buyer, carrier: str, tracking_number: str) -> Case:
    """The buyer says the item is on its way back; the state waits for the seller."""
    case = lock_case(case)
    if not is_case_buyer(case, buyer):
        raise PermissionDenied("Only the buyer sends the item back.")
    if case.state != Case.State.AWAITING_RETURN:
        raise refusal(case, "mark_return_shipped", buyer, "There is no return waiting on this case.")
    if case.return_shipped_at is not None:
        raise refusal(case, "mark_return_shipped", buyer, "The return is already on its way.")
    if timezone.now() > case.return_due_at:
        raise refusal(case, "mark_return_shipped", buyer, "The time to send the item back has passed.")
    errors = {}
    if not carrier.strip():
        errors["carrier"] = ["Enter the carrier."]
    if not tracking_number.strip():
        errors["tracking_number"] = ["Enter the tracking number."]
    if errors:
        raise InvalidInput("Say how the item was sent back.", errors=errors)
    refuse_unstorable(carrier=carrier, tracking_number=tracking_number)
    case.return_carrier = carrier.strip()
    case.return_tracking_number = tracking_number.strip()
    case.return_shipped_at = timezone.now()
    case.return_confirm_due_at = deadline_after(case.return_shipped_at, case.rules, days=case.rules.return_confirm_days)
    case.buyer_last_active_at = case.return_shipped_at
    save_with_history(case, actor=buyer, reason=f"Buyer sent the item back with {case.return_carrier}")
    announce(event_for("return_shipped", case, actor=buyer, from_state=case.state, at=case.return_shipped_at))
    return case


# Both parties


def case_appeal(*, case: Case, party, grounds: str) -> Case:
    if not (grounds or "").strip():
        raise InvalidInput("Say why the outcome should be reviewed.", errors={"grounds": ["Required."]})
    refuse_unstorable(grounds=grounds)
    return _transition(case, "appeal", party, f"Appeal: {grounds.strip()}", appellant=party)


@transaction.atomic
def proposal_answer(*, case: Case, party, accept: bool) -> Case:
    """A party accepts or rejects the agent's proposal; when both accept, it is the outcome."""
    now = timezone.now()
    case = lock_case(case)
    offer = case.pending_offer()
    if case.state != Case.State.IN_MEDIATION or offer is None or offer.made_by_role != Offer.Role.AGENT:
        raise refusal(case, "answer_proposal", party, "There is no proposal to answer on this case.")
    if not is_case_party(case, party):
        raise PermissionDenied("Only the buyer and the seller answer a proposal.")
    side = "buyer" if is_case_buyer(case, party) else "seller"
    if getattr(offer, f"{side}_answer"):
        raise refusal(case, "answer_proposal", party, "You have already answered this proposal.")
    answer = Offer.Answer.ACCEPTED if accept else Offer.Answer.REJECTED
    setattr(offer, f"{side}_answer", answer)
    if not accept:
        offer.status = Offer.Status.DECLINED
        offer.answered_at = now
    save_with_history(offer, actor=party, reason=f"The {side} {answer.label.lower()} the proposal")
    if accept and offer.is_agreed_by_both:
        case = fire_transition(
            case, "adopt_proposal", party, "Both parties accepted the agent's proposal", at=now, offer=offer
        )
        answer_offer(offer, status=Offer.Status.ACCEPTED, actor=party, at=now)
        return case
    announce(event_for(f"proposal_{answer}", case, actor=party, from_state=case.state, at=now))
    return case


# Agents


def case_claim(*, case: Case, agent) -> Case:
    if not is_agent(case, agent):  # the system assigns through `assign_escalation_automatically`
        raise PermissionDenied("Only an agent who is not a party takes a case.")
    return _transition(case, "claim", agent, "Agent took the case for mediation", agent=agent)


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
    amount = _remedy_amount(case, kind=kind, amount=amount)
    _supersede_pending_offer(case, actor=agent, at=now)
    offer = Offer(
        case=case,
        made_by=agent,
        made_by_role=Offer.Role.AGENT,
        kind=kind,
        amount=amount,
        note=note.strip(),
        created_at=now,
    )
    validate(offer, error=InvalidInput, message="The proposal is not valid.")
    save_with_history(offer, actor=agent, reason="Agent proposed an outcome")
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


# The system. `actor` defaults to the system user; anyone else is refused by the permission,
# also when an adapter names these actions through `case_transition`.


@transaction.atomic
def case_escalate_unanswered(*, case: Case, actor=None) -> Case:
    now = timezone.now()
    actor = actor or system_user()
    case = lock_case(case)
    check_transition(case, "escalate_unanswered", actor)
    return escalate_unanswered_checked(case, actor=actor, at=now)


def escalate_unanswered_checked(case: Case, *, actor, at: datetime) -> Case:
    """On a case the caller locked and checked for `escalate_unanswered`."""
    case = fire_transition(case, "escalate_unanswered", actor, "The seller did not answer in time", at=at)
    return assign_if_enabled(case, at=at)


def assign_if_enabled(case: Case, *, at: datetime) -> Case:
    if settings.AUTO_ASSIGN_ESCALATIONS:
        return assign_escalation_automatically(case, at=at)
    return case


def case_lapse_return(*, case: Case, actor=None) -> Case:
    return _transition(case, "lapse_return", actor or system_user(), "The return window passed")


def case_close(*, case: Case, actor=None) -> Case:
    return _transition(case, "close", actor or system_user(), "The appeal window passed")


# Internals


def _decide(case, action, stage, agent, outcome, amount, rationale) -> Decision:
    now = timezone.now()
    case = lock_case(case)
    check_transition(case, action, agent)
    if not (rationale or "").strip():
        raise InvalidInput("Explain the decision and the policy it rests on.", errors={"rationale": ["Required."]})
    refuse_unstorable(rationale=rationale)
    amount = _remedy_amount(case, kind=outcome, amount=amount)
    _lapse_pending_offer(case, actor=agent, at=now)
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


def _transition(case: Case, action: str, actor, reason: str, **kwargs) -> Case:
    with transaction.atomic():
        now = timezone.now()
        case = lock_case(case)
        check_transition(case, action, actor)
        return fire_transition(case, action, actor, reason, at=now, **kwargs)


def check_transition(case: Case, action: str, actor) -> None:
    """Refuse a wrong state or unmet condition first, then a wrong actor (see CONVENTIONS)."""
    method = getattr(case, action)
    if not can_proceed(method, check_conditions=False):
        raise refusal(
            case, action, actor, f"This case is {case.get_state_display().lower()}; that is not possible now."
        )
    if not can_proceed(method):
        raise refusal(case, action, actor, CONDITION_MESSAGES.get(action, "That is not possible yet on this case."))
    if not has_transition_perm(method, actor):
        raise PermissionDenied("You are not allowed to do that on this case.")


CONDITION_MESSAGES = {
    "escalate": "You can ask us to step in once the seller has had time to answer, or as soon as they decline.",
    "decide": "Evidence was requested and is not due yet: decide once it arrives or its date passes.",
    "escalate_unanswered": "The seller still has time to answer.",
    "accept_offer": "There is no offer from the seller to accept.",
    "decline_offer": "There is no offer from the seller to decline.",
    "adopt_proposal": "Both parties must accept the proposal first.",
    "appeal": "This outcome can no longer be appealed: the window has passed or it was appealed already.",
    "lapse_return": "The return window is still open.",
    "close": "The appeal window is still open.",
}


def fire_transition(case: Case, action: str, actor, reason: str, *, at: datetime, refund_due=None, **kwargs) -> Case:
    """Run one transition on a locked, checked case and save it with its history."""
    from_state = case.state
    before = field_values(case)
    getattr(case, action)(at=at, **kwargs)
    if actor is not None and actor.pk == case.buyer_id:
        case.buyer_last_active_at = at
    validate(
        case, error=InvalidInput, message="The case would not be valid after that.", fields=changed_fields(case, before)
    )
    try:
        save_with_history(case, actor=actor, reason=reason)
    except ConcurrentTransition as exc:
        raise CaseChanged(
            "This case changed while you were working on it; reload it and try again.",
            state=from_state,
            action=action,
            allowed_actions=[],
        ) from exc
    if case.state == Case.State.RESOLVED and case.refund_amount and from_state != Case.State.RESOLVED:
        _instruct_refund(case, amount=case.refund_amount, key=f"{case.reference}-resolution", at=at)
    if refund_due and refund_due > 0:
        _instruct_refund(case, amount=refund_due, key=f"{case.reference}-appeal", at=at)
    announce(event_for(action, case, actor=actor, from_state=from_state, at=at, reason=reason))
    return case


def _instruct_refund(case: Case, *, amount: Decimal, key: str, at: datetime) -> RefundInstruction:
    refund, created = RefundInstruction.objects.get_or_create(
        idempotency_key=key, defaults={"case": case, "amount": amount, "currency": case.currency, "created_at": at}
    )
    if created:
        refund_dispatch_after_commit(refund)
    return refund


def _remedy_amount(case: Case, *, kind: str, amount: Decimal | None) -> Decimal | None:
    """The money a remedy moves: the order amount for a full refund, none for goods."""
    if kind not in Outcome.values:
        raise InvalidInput("Choose a remedy.", errors={"kind": [f"{kind!r} is not a remedy."]})
    if kind not in REFUND_OUTCOMES:
        return None
    if kind == Outcome.FULL_REFUND:
        return case.order.amount
    if kind == Outcome.RETURN_AND_REFUND and amount is None:
        return case.order.amount
    if amount is None or not amount.is_finite() or amount <= 0:
        raise InvalidInput("Enter an amount above zero.", errors={"amount": ["Enter an amount above zero."]})
    if amount > case.order.amount:
        message = f"At most the order amount, {case.order.amount} {case.currency}."
        raise InvalidInput(message, errors={"amount": [message]})
    return amount


def _supersede_pending_offer(case: Case, *, actor, at: datetime) -> None:
    offer = case.pending_offer()
    if offer is not None:
        answer_offer(offer, status=Offer.Status.SUPERSEDED, actor=actor, at=at)


def _lapse_pending_offer(case: Case, *, actor, at: datetime) -> None:
    offer = case.pending_offer()
    if offer is not None:
        answer_offer(offer, status=Offer.Status.LAPSED, actor=actor, at=at)


def answer_offer(offer: Offer, *, status: str, actor, at: datetime, **answers) -> None:
    offer.status = status
    offer.answered_at = at
    for name, value in answers.items():
        setattr(offer, name, value)
    save_with_history(offer, actor=actor, reason=f"Offer {Offer.Status(status).label.lower()}")
