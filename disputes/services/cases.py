"""Filing, and the steps the buyer, the seller and the system take on a case."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from disputes.clock import deadline_after
from disputes.events import announce
from disputes.exceptions import FilingRefused, InvalidInput
from disputes.models import Case, Offer, Order, Outcome
from disputes.permissions import is_case_buyer, is_case_party
from disputes.ratelimits import rate_limit
from disputes.services._common import (
    event_for,
    lock_case,
    refusal,
    refuse_unstorable,
    save_with_history,
    system_user,
    validate,
    with_note,
)
from disputes.services._machine import (
    answer_offer,
    check_transition,
    fire_transition,
    lapse_pending_offer,
    put_offer,
    remedy_amount,
    run_transition,
)
from disputes.services.conversation import store_evidence
from disputes.services.mediation import assign_escalation_automatically
from policies.selectors import dispute_policy_in_force, policy_current_version

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
    amount = remedy_amount(case, kind=kind, amount=amount)
    if kind == Outcome.RETURN_AND_REFUND and not return_address.strip():
        raise InvalidInput("Say where the item should be sent back.", errors={"return_address": ["Required."]})
    offer = put_offer(
        case,
        made_by=seller,
        role=Offer.Role.SELLER,
        kind=kind,
        amount=amount,
        note=note,
        return_address=return_address,
        at=now,
        invalid_message="The offer is not valid.",
        reason="Offer made by the seller",
    )
    fire_transition(case, "make_offer", seller, f"Seller offered: {offer.get_kind_display()}", at=now)
    return offer


def case_decline_claim(*, case: Case, seller, note: str = "") -> Case:
    return run_transition(case, "decline_claim", seller, with_note("Seller declined the claim", note))


@transaction.atomic
def case_accept_claim(*, case: Case, seller) -> Case:
    """The seller grants what the buyer asked for; an offer of theirs still pending lapses."""
    now = timezone.now()
    case = lock_case(case)
    check_transition(case, "accept_claim", seller)
    lapse_pending_offer(case, actor=seller, at=now)
    return fire_transition(case, "accept_claim", seller, "Seller accepted the claim", at=now)


def case_confirm_return(*, case: Case, seller) -> Case:
    return run_transition(case, "confirm_return", seller, "Seller confirmed the returned item arrived")


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
    lapse_pending_offer(case, actor=buyer, at=now)
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
    return run_transition(case, "appeal", party, f"Appeal: {grounds.strip()}", appellant=party)


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
    return run_transition(case, "lapse_return", actor or system_user(), "The return window passed")


def case_close(*, case: Case, actor=None) -> Case:
    return run_transition(case, "close", actor or system_user(), "The appeal window passed")
