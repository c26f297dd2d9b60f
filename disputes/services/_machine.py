"""How a service fires a transition on a locked case: check it, run it, save it with its history,
instruct the refunds it brings, settle the offers it ends, announce it.

Not the by-name dispatcher for adapters: that is `transitions.py`.
"""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from disputes.events import announce
from disputes.exceptions import CaseChanged, InvalidInput
from disputes.models import REFUND_OUTCOMES, Case, Offer, Outcome, RefundInstruction
from disputes.services._common import (
    changed_fields,
    event_for,
    field_values,
    lock_case,
    refusal,
    save_with_history,
    validate,
)
from disputes.services.refunds import refund_dispatch_after_commit


def run_transition(case: Case, action: str, actor, reason: str, **kwargs) -> Case:
    """Lock, check and fire one transition in its own transaction."""
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


def remedy_amount(case: Case, *, kind: str, amount: Decimal | None) -> Decimal | None:
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


def put_offer(
    case: Case,
    *,
    made_by,
    role: str,
    kind: str,
    amount: Decimal | None,
    note: str,
    return_address: str = "",
    at: datetime,
    invalid_message: str,
    reason: str,
) -> Offer:
    """A new pending offer on a locked case, replacing any offer still pending; validated (else
    `InvalidInput` with `invalid_message`) and saved with its history. `amount`: from remedy_amount."""
    supersede_pending_offer(case, actor=made_by, at=at)
    offer = Offer(
        case=case,
        made_by=made_by,
        made_by_role=role,
        kind=kind,
        amount=amount,
        note=note.strip(),
        return_address=return_address.strip(),
        created_at=at,
    )
    validate(offer, error=InvalidInput, message=invalid_message)
    save_with_history(offer, actor=made_by, reason=reason)
    return offer


def supersede_pending_offer(case: Case, *, actor, at: datetime) -> None:
    offer = case.pending_offer()
    if offer is not None:
        answer_offer(offer, status=Offer.Status.SUPERSEDED, actor=actor, at=at)


def lapse_pending_offer(case: Case, *, actor, at: datetime) -> None:
    offer = case.pending_offer()
    if offer is not None:
        answer_offer(offer, status=Offer.Status.LAPSED, actor=actor, at=at)


def answer_offer(offer: Offer, *, status: str, actor, at: datetime, **answers) -> None:
    offer.status = status
    offer.answered_at = at
    for name, value in answers.items():
        setattr(offer, name, value)
    save_with_history(offer, actor=actor, reason=f"Offer {Offer.Status(status).label.lower()}")
