from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from disputes.exceptions import InvalidInput, TransitionRefused
from disputes.models import Case
from disputes.permissions import is_case_party
from feedback.models import SurveyResponse
from feedback.selectors import SURVEYED_STATES


def survey_answer(*, case: Case, respondent, score: int, comment: str = "") -> SurveyResponse:
    """A party rates how the case was handled, once, after it ended with an outcome."""
    if not is_case_party(case, respondent):
        raise PermissionDenied("Only the buyer and the seller rate a case.")
    if case.state not in SURVEYED_STATES:
        raise TransitionRefused(
            "You can rate the case once it has an outcome.",
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
