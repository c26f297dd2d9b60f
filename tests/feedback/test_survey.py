"""The satisfaction survey: who is asked, when, by email, and only an explicit POST records."""

import pytest
from django.core import mail
from django.utils import timezone

from disputes import services as dispute_services
from disputes.exceptions import InvalidInput, TransitionRefused
from disputes.models import Case
from feedback import services
from feedback.models import SurveyResponse
from feedback.selectors import survey_pending_for

pytestmark = pytest.mark.django_db


def _resolved(case, seller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dispute_services.case_accept_claim(case=case, seller=seller)
    case.refresh_from_db()
    return case


def test_survey_invitations_email_each_party_once_with_the_case_link(
    open_case, seller, django_capture_on_commit_callbacks
):
    case = _resolved(open_case, seller, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.survey_invitations_send(now=timezone.now()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert services.survey_invitations_send(now=timezone.now()) == 0  # once
    assert sorted(m.to[0] for m in mail.outbox) == ["buyer@example.com", "seller@example.com"]
    assert case.get_absolute_url() in mail.outbox[0].body


def test_survey_invitations_skip_withdrawn_cases(open_case, buyer):
    dispute_services.case_withdraw(case=open_case, buyer=buyer)
    assert services.survey_invitations_send(now=timezone.now()) == 0


def test_survey_not_offered_for_a_withdrawn_case(open_case, buyer):
    dispute_services.case_withdraw(case=open_case, buyer=buyer)
    open_case.refresh_from_db()
    assert not survey_pending_for(case=open_case, user=buyer)
    with pytest.raises(TransitionRefused):
        services.survey_answer(case=open_case, respondent=buyer, score=5)


def test_survey_not_offered_for_a_case_closed_for_inactivity(open_case, buyer):
    Case.objects.filter(pk=open_case.pk).update(state=Case.State.CLOSED, outcome="")
    open_case.refresh_from_db()
    assert not survey_pending_for(case=open_case, user=buyer)
    with pytest.raises(TransitionRefused):
        services.survey_answer(case=open_case, respondent=buyer, score=4)


def test_survey_answer_twice_out_of_range_or_by_non_party_is_refused(
    open_case, buyer, seller, other_buyer, django_capture_on_commit_callbacks
):
    case = _resolved(open_case, seller, django_capture_on_commit_callbacks)
    with pytest.raises(InvalidInput):
        services.survey_answer(case=case, respondent=buyer, score=6)
    services.survey_answer(case=case, respondent=buyer, score=4)
    with pytest.raises(TransitionRefused, match="already rated"):
        services.survey_answer(case=case, respondent=buyer, score=5)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.survey_answer(case=case, respondent=other_buyer, score=5)
    assert list(SurveyResponse.objects.values_list("score", flat=True)) == [4]


def test_survey_link_opened_by_get_records_nothing(
    client, open_case, buyer, seller, django_capture_on_commit_callbacks
):
    case = _resolved(open_case, seller, django_capture_on_commit_callbacks)
    client.force_login(buyer)
    page = client.get(case.get_absolute_url())
    assert "Rate how we handled this case" in page.content.decode()
    assert client.get(f"/cases/{case.reference}/rating/?score=5").status_code == 405
    assert not SurveyResponse.objects.exists()
