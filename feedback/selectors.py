from dataclasses import dataclass

from django.db.models import Avg, Count

from disputes.models import Case
from disputes.permissions import is_case_party
from feedback.models import SurveyResponse

SURVEYED_STATES = (Case.State.RESOLVED, Case.State.CLOSED)


def survey_pending_for(*, case: Case, user) -> bool:
    return (
        case.state in SURVEYED_STATES
        and is_case_party(case, user)
        and not SurveyResponse.objects.filter(case=case, respondent=user).exists()
    )


@dataclass(frozen=True)
class Satisfaction:
    """How a person rated our handling of their finished cases."""

    average: float
    ratings: int


def satisfaction_given(*, users) -> dict[int, Satisfaction]:
    """The average survey score each of `users` gave, by user id; absent when they never rated."""
    rows = (
        SurveyResponse.objects.filter(respondent__in=users)
        .values("respondent")
        .annotate(average=Avg("score"), ratings=Count("pk"))
        .order_by()
    )
    return {row["respondent"]: Satisfaction(float(row["average"]), row["ratings"]) for row in rows}
