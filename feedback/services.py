"""Writes for feedback: survey answers and trade feedback. Keyword-only; rules live here once."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from disputes.exceptions import InvalidInput, TransitionRefused
from disputes.models import Case, Decision, Order, Outcome
from disputes.permissions import is_case_party
from feedback.exceptions import FeedbackRefused
from feedback.models import SurveyInvitation, SurveyResponse, TradeFeedback
from feedback.selectors import feedback_direction_for, feedback_open_for, feedback_policy, survey_open

logger = logging.getLogger(__name__)
RATINGS = {choice.value for choice in TradeFeedback.Rating}
WITHDRAWN_FOR_SELLER = "The platform decided the case on this order for the seller."


def survey_answer(*, case: Case, respondent, score: int, comment: str = "") -> SurveyResponse:
    """A party rates how the case was handled, once, after it ended with an outcome."""
    if not is_case_party(case, respondent):
        raise PermissionDenied("Only the buyer and the seller rate a case.")
    if not survey_open(case):
        raise TransitionRefused(
            "You can rate the case once it has an outcome; cases withdrawn or closed without one are not rated.",
            state=case.state,
            action="survey_answer",
            allowed_actions=[],
        )
    if score not in range(1, 6):
        raise InvalidInput("Choose a score from 1 to 5.", errors={"score": ["Choose a score from 1 to 5."]})
    try:
        with transaction.atomic():
            return SurveyResponse.objects.create(
                case=case,
                respondent=respondent,
                score=score,
                comment=(comment or "").strip(),
                created_at=timezone.now(),
            )
    except IntegrityError:
        raise TransitionRefused(
            "You have already rated this case.", state=case.state, action="survey_answer", allowed_actions=[]
        ) from None


def _check_rating(rating: str, comment: str) -> str:
    if rating not in RATINGS:
        raise InvalidInput(
            "Choose positive, neutral or negative.", errors={"rating": ["Choose positive, neutral or negative."]}
        )
    comment = (comment or "").strip()
    if len(comment) > 300:
        raise InvalidInput("Keep the comment under 300 characters.", errors={"comment": ["At most 300 characters."]})
    return comment


def _decided_for_seller(order: Order) -> bool:
    """An agent or a senior agent (not a rule, not an agreement) ended a case on the order with no action."""
    return Case.objects.filter(
        order=order,
        outcome=Outcome.NO_ACTION,
        pk__in=Decision.objects.filter(stage__in=[Decision.Stage.MEDIATION, Decision.Stage.APPEAL]).values("case"),
    ).exists()


def _withdraw_if_due(feedback: TradeFeedback, *, at) -> None:
    due = (
        feedback.direction == TradeFeedback.Direction.BUYER_TO_SELLER
        and feedback.rating == TradeFeedback.Rating.NEGATIVE
        and _decided_for_seller(feedback.order)
    )
    if due and feedback.withdrawn_at is None:
        feedback.withdrawn_at, feedback.withdrawn_reason = at, WITHDRAWN_FOR_SELLER
    elif not due and feedback.withdrawn_reason == WITHDRAWN_FOR_SELLER:
        feedback.withdrawn_at, feedback.withdrawn_reason = None, ""


def trade_feedback_leave(*, order: Order, author, rating: str, comment: str = "") -> TradeFeedback:
    """A party to the order rates the other side, once per order, after delivery or a finished case."""
    direction = feedback_direction_for(order=order, user=author)
    if direction is None:
        raise PermissionDenied("Only the buyer and the seller of an order leave feedback on it.")
    comment = _check_rating(rating, comment)
    if not feedback_open_for(order):
        raise FeedbackRefused("Feedback opens once the order is delivered or its case is over.")
    now = timezone.now()
    policy = feedback_policy(at=now)
    feedback = TradeFeedback(
        order=order,
        direction=direction,
        author=author,
        recipient_id=order.seller_id if direction == TradeFeedback.Direction.BUYER_TO_SELLER else order.buyer_id,
        rating=rating,
        comment=comment,
        created_at=now,
        updated_at=now,
        editable_until=now + timedelta(days=policy.feedback_edit_days),
    )
    _withdraw_if_due(feedback, at=now)
    feedback._history_user = author
    feedback._change_reason = "Feedback left"
    try:
        with transaction.atomic():
            feedback.save()
    except IntegrityError:
        raise FeedbackRefused("You have already left feedback on this order.") from None
    return feedback


def trade_feedback_edit(*, order: Order, author, rating: str, comment: str = "") -> TradeFeedback:
    """The author changes their feedback while the policy's edit window is open. Locks the row."""
    direction = feedback_direction_for(order=order, user=author)
    if direction is None:
        raise PermissionDenied("Only the buyer and the seller of an order leave feedback on it.")
    comment = _check_rating(rating, comment)
    with transaction.atomic():
        feedback = TradeFeedback.objects.select_for_update().filter(order=order, direction=direction).first()
        if feedback is None:
            raise FeedbackRefused("You have not left feedback on this order yet.")
        now = timezone.now()
        if now > feedback.editable_until:
            raise FeedbackRefused("The time to change this feedback has passed.")
        feedback.rating, feedback.comment, feedback.updated_at = rating, comment, now
        _withdraw_if_due(feedback, at=now)
        feedback._history_user = author
        feedback._change_reason = "Feedback changed"
        feedback.save()
    return feedback


def trade_feedback_sync_withdrawal(*, case: Case, actor=None) -> int:
    """After a platform decision on `case`: withdraw the buyer's negative feedback on the order if
    the case went the seller's way, or restore feedback withdrawn earlier if an appeal reversed it.
    Rows are kept; each change is in their history. Returns how many rows changed."""
    changed = 0
    now = timezone.now()
    with transaction.atomic():
        rows = TradeFeedback.objects.select_for_update().filter(
            order_id=case.order_id,
            direction=TradeFeedback.Direction.BUYER_TO_SELLER,
            rating=TradeFeedback.Rating.NEGATIVE,
        )
        for feedback in rows:  # at most one: one per order per direction
            before = feedback.withdrawn_at
            _withdraw_if_due(feedback, at=now)
            if feedback.withdrawn_at != before:
                feedback._history_user = actor
                feedback._change_reason = feedback.withdrawn_reason or "Reinstated: the decision was changed on appeal"
                feedback.save()
                changed += 1
    return changed


SURVEY_INVITE_WITHIN = timedelta(days=14)


def survey_invitations_send(*, now: datetime, limit: int = 500) -> int:
    """Email each party of a recently ended case (with an outcome) a link to the case page, once.

    The link only opens the page; the rating is recorded by the form's POST, so a mail scanner
    opening it answers nothing. Run by `manage.py send_survey_invitations` (cron), in batches.
    Returns how many emails were sent."""
    sent = 0
    recent = Case.objects.filter(
        state__in=[Case.State.RESOLVED, Case.State.CLOSED], resolved_at__gte=now - SURVEY_INVITE_WITHIN
    ).exclude(outcome="")
    for side in ("buyer", "seller"):
        invited = SurveyInvitation.objects.filter(case=OuterRef("pk"), recipient=OuterRef(side))
        answered = SurveyResponse.objects.filter(case=OuterRef("pk"), respondent=OuterRef(side))
        due = recent.filter(~Exists(invited), ~Exists(answered)).select_related(side)[:limit]
        for case in due:
            party = getattr(case, side)
            with transaction.atomic():
                _, created = SurveyInvitation.objects.get_or_create(
                    case=case, recipient=party, defaults={"sent_at": now}
                )
                if created and party.email:
                    transaction.on_commit(lambda case=case, party=party: _email_invitation(case, party))
                    sent += 1
    return sent


def _email_invitation(case: Case, party) -> None:
    link = f"{settings.SITE_URL}{case.get_absolute_url()}#survey-heading"
    try:
        send_mail(
            subject=f"[{case.reference}] How did we handle your case?",
            message=(
                f"Case {case.reference} has an outcome. Tell us how we handled it (1 to 5, and a comment if "
                f"you like) on the case page:\n\n{link}\n\nOne answer per person; it takes a minute."
            ),
            from_email=None,
            recipient_list=[party.email],
        )
    except Exception:  # best effort: the case page asks too
        logger.exception("Could not send the survey invitation for %s", case.reference)
