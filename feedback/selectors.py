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
