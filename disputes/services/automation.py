"""Steps the system takes when a deadline passes. Each locks the case, re-checks that the step
is still due, and records itself under the system user with its reason."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from disputes.clock import deadline_after
from disputes.events import announce
from disputes.models import Case, Decision, EvidenceRequest, Offer, Outcome, Reason, Reminder
from disputes.services._common import event_for, lock_case, refusal, save_with_history, system_user
from disputes.services._machine import answer_offer, check_transition, fire_transition
from disputes.services.cases import escalate_unanswered_checked


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    title: str
    outcome: str
    amount: Decimal | None
    facts: dict


def auto_resolution_for(case: Case, *, at: datetime) -> RuleMatch | None:
    """The first of the pinned policy's automatic rules that holds for this case, if any."""
    rules = case.rules
    limit = rules.auto_resolve_limit
    seller_silent = case.seller_answered_at is None and at > case.seller_answer_due_at
    if not limit or not seller_silent:
        return None
    facts = {
        "reason": case.reason,
        "seller_answer_due_at": case.seller_answer_due_at.isoformat(),
        "seller_answered": False,
        "amount_claimed": str(case.amount_claimed),
        "automatic_limit": str(limit),
        "policy_version": rules.version,
    }
    order = case.order
    if (
        rules.auto_rule_not_received
        and case.reason == Reason.NOT_RECEIVED
        and order.delivered_at is None
        and order.amount <= limit
    ):
        return RuleMatch(
            "not_received",
            "Item not received, no delivery scan, seller silent",
            Outcome.FULL_REFUND,
            order.amount,
            {**facts, "delivery_scan": False, "order_amount": str(order.amount)},
        )
    if rules.auto_rule_seller_silent and case.amount_claimed <= limit:
        outcome = Outcome.FULL_REFUND if case.amount_claimed >= order.amount else Outcome.PARTIAL_REFUND
        return RuleMatch("seller_silent", "Seller silent past the deadline", outcome, case.amount_claimed, facts)
    return None


# Each step has two entries: `case_<step>` locks the case in a transaction of its own;
# `<step>` runs on a case its caller already locked (`process_deadlines` takes its rows locked).


@transaction.atomic
def case_handle_unanswered(*, case: Case, actor=None) -> str:
    """The seller let the answer deadline pass: resolve by rule when one holds, else escalate."""
    return handle_unanswered(lock_case(case), actor=actor or system_user())


def handle_unanswered(case: Case, *, actor) -> str:
    """`case_handle_unanswered` on a case the caller locked (with its order and policy version)."""
    now = timezone.now()
    check_transition(case, "escalate_unanswered", actor)
    match = auto_resolution_for(case, at=now)
    if match is None:
        escalate_unanswered_checked(case, actor=actor, at=now)
        return "escalated"
    _resolve_by_rule(case, match, actor=actor, at=now)
    return "resolved_by_rule"


@transaction.atomic
def case_resolve_by_rule(*, case: Case, actor=None) -> Case:
    """Settle the case by the first automatic rule of its pinned policy that holds."""
    now = timezone.now()
    actor = actor or system_user()
    case = lock_case(case)
    check_transition(case, "resolve_automatically", actor)
    match = auto_resolution_for(case, at=now)
    if match is None:
        raise refusal(case, "resolve_automatically", actor, "No automatic rule of the policy applies to this case.")
    return _resolve_by_rule(case, match, actor=actor, at=now)


def _resolve_by_rule(case: Case, match: RuleMatch, *, actor, at: datetime) -> Case:
    case = fire_transition(
        case,
        "resolve_automatically",
        actor,
        f"Automatic decision: {Outcome(match.outcome).label}. Rule: {match.title}",
        at=at,
        outcome=match.outcome,
        refund_amount=match.amount,
    )
    decision = Decision(
        case=case,
        stage=Decision.Stage.AUTOMATIC,
        outcome=match.outcome,
        amount=match.amount,
        rationale=(
            f"Resolved by the rule “{match.title}” of the disputes policy (version {case.rules.version}). "
            "Either side may appeal to a person."
        ),
        rule=match.rule,
        facts=match.facts,
        decided_by=actor,
        decided_at=at,
    )
    save_with_history(decision, actor=actor, reason=f"Automatic decision recorded: {match.title}")
    return case


@transaction.atomic
def case_close_inactive(*, case: Case, actor=None) -> Case:
    """The buyer let their answer window or the inactivity window pass: close, saying which."""
    return close_inactive(lock_case(case), actor=actor or system_user())


def close_inactive(case: Case, *, actor) -> Case:
    """`case_close_inactive` on a case the caller locked (with its order and policy version)."""
    now = timezone.now()
    check_transition(case, "close_inactive", actor)
    offer_lapsed = case.buyer_answer_due_at is not None and now > case.buyer_answer_due_at
    reason = (
        "Closed: the buyer did not answer the seller in time"
        if offer_lapsed
        else "Closed: no activity from the buyer in the inactivity window"
    )
    offer = case.pending_offer()
    case = fire_transition(case, "close_inactive", actor, reason, at=now)
    if offer is not None:
        answer_offer(offer, status=Offer.Status.LAPSED, actor=actor, at=now)
    return case


@transaction.atomic
def case_flag_overdue(*, case: Case, actor=None) -> str | None:
    """A missed decision target raises the case in the queue; a second period raises it to seniors."""
    return flag_overdue(lock_case(case), actor=actor or system_user())


def flag_overdue(case: Case, *, actor) -> str | None:
    """`case_flag_overdue` on a case the caller locked (with its order and policy version)."""
    now = timezone.now()
    if case.state not in (Case.State.ESCALATED, Case.State.IN_MEDIATION, Case.State.APPEALED):
        return None
    if case.agent_decision_due_at is None or now <= case.agent_decision_due_at:
        return None
    if case.decision_overdue_at is None:
        case.decision_overdue_at = now
        save_with_history(case, actor=actor, reason="The decision target passed: flagged overdue")
        announce(event_for("flagged_overdue", case, actor=actor, from_state=case.state, at=now))
        return "flagged_overdue"
    senior_at = deadline_after(case.agent_decision_due_at, case.rules, hours=case.rules.senior_escalation_hours)
    if case.raised_to_seniors_at is None and now > senior_at:
        case.raised_to_seniors_at = now
        save_with_history(case, actor=actor, reason="Still undecided: raised to senior agents")
        announce(event_for("raised_to_seniors", case, actor=actor, from_state=case.state, at=now))
        return "raised_to_seniors"
    return None


@transaction.atomic
def evidence_request_mark_missed(*, request_id: int, actor=None) -> str | None:
    now = timezone.now()
    actor = actor or system_user()
    request = EvidenceRequest.objects.select_related("requested_from").get(pk=request_id)
    case = lock_case(request.case)
    request = EvidenceRequest.objects.select_for_update().get(pk=request_id)
    if request.fulfilled_at is not None or request.missed_at is not None or now <= request.due_at:
        return None
    request.missed_at = now
    request.save(update_fields=["missed_at"])
    side = "buyer" if request.requested_from_id == case.buyer_id else "seller"
    save_with_history(
        case,
        actor=actor,
        reason=f"The {side} did not send the requested evidence in time; the agent may decide without it",
    )
    announce(event_for("evidence_missed", case, actor=actor, from_state=case.state, at=now))
    return "evidence_missed"


@transaction.atomic
def reminder_send(*, case: Case, kind: str, due_at: datetime, recipient) -> bool:
    """Remind one person of one deadline; False when that reminder was already sent."""
    reminder, created = Reminder.objects.get_or_create(
        case=case, kind=kind, due_at=due_at, recipient=recipient, defaults={"sent_at": timezone.now()}
    )
    if created:
        announce(
            event_for(
                "reminder",
                case,
                actor=None,
                from_state=case.state,
                at=reminder.sent_at,
                kind=kind,
                due_at=due_at.isoformat(),
                recipient_id=recipient.pk,
            )
        )
    return created
