from decimal import Decimal

import pytest

from disputes import services
from disputes.models import Case, Decision
from tests import factories


@pytest.fixture
def escalated_case(open_case):
    services.case_decline_claim(case=open_case, seller=open_case.seller, note="As described.")
    return services.case_escalate(case=open_case, buyer=open_case.buyer)


def change_url(case):
    return f"/admin/disputes/case/{case.pk}/change/"


def test_case_admin_lists_every_case_with_its_state(client, admin_user, open_case, escalated_case):
    client.force_login(admin_user)

    page = client.get("/admin/disputes/case/")

    assert page.status_code == 200
    assert open_case.reference in page.text
    assert "Waiting for an agent" in page.text


def test_case_admin_finds_a_case_by_reference(client, admin_user, open_case):
    other = factories.case()
    client.force_login(admin_user)

    page = client.get("/admin/disputes/case/", {"q": other.reference.lower()})

    assert other.reference in page.text and open_case.reference not in page.text


def test_case_admin_shows_state_read_only_with_the_transitions_the_admin_may_fire(client, admin_user, escalated_case):
    client.force_login(admin_user)

    page = client.get(change_url(escalated_case))

    assert page.status_code == 200
    assert 'name="state"' not in page.text
    assert 'value="claim"' in page.text
    assert 'value="withdraw"' not in page.text  # the buyer's action, not the admin's


def test_case_admin_history_names_who_moved_the_case_and_why(client, admin_user, escalated_case):
    client.force_login(admin_user)

    page = client.get(f"/admin/disputes/case/{escalated_case.pk}/history/")

    assert "Seller declined the claim: As described." in page.text
    assert "Buyer asked the platform to step in" in page.text
    assert escalated_case.seller.username in page.text


def test_case_admin_transition_button_goes_through_the_service(client, admin_user, escalated_case):
    client.force_login(admin_user)

    response = client.post(change_url(escalated_case), {"_fsm_transition_to": "claim"})

    assert response.status_code == 302
    case = Case.objects.get(pk=escalated_case.pk)
    assert case.state == Case.State.IN_MEDIATION and case.agent == admin_user
    latest = case.history.first()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "Agent took the case for mediation")


def test_case_admin_decide_asks_for_the_outcome_and_records_the_decision(client, admin_user, escalated_case):
    client.force_login(admin_user)
    services.case_claim(case=escalated_case, agent=admin_user)

    form = client.post(change_url(escalated_case), {"_fsm_transition_to": "decide"})
    assert form.status_code == 302 and form.url.endswith("/transition/decide/")
    response = client.post(
        form.url, {"outcome": "partial_refund", "amount": "20.00", "rationale": "Policy 4.2: damage in transit."}
    )

    assert response.status_code == 302
    case = Case.objects.get(pk=escalated_case.pk)
    assert (case.state, case.outcome, case.refund_amount) == ("resolved", "partial_refund", Decimal("20.00"))
    decision = Decision.objects.get(case=case)
    assert decision.decided_by == admin_user and "Policy 4.2" in decision.rationale
    assert case.refunds.get().amount == Decimal("20.00")


def test_case_admin_refused_transition_shows_the_reason_and_changes_nothing(client, admin_user, open_case):
    client.force_login(admin_user)
    rows_before = open_case.history.count()

    response = client.post(change_url(open_case), {"_fsm_transition_to": "claim"}, follow=True)

    assert "waiting for the seller; that is not possible now" in response.text
    case = Case.objects.get(pk=open_case.pk)
    assert case.state == Case.State.OPEN and case.history.count() == rows_before


def test_case_admin_saving_the_form_writes_no_history(client, admin_user, open_case):
    client.force_login(admin_user)
    rows_before = open_case.history.count()

    client.post(change_url(open_case), {"description": "rewritten by admin", "_save": "Save"})

    case = Case.objects.get(pk=open_case.pk)
    assert case.description != "rewritten by admin" and case.history.count() == rows_before


def test_case_admin_is_closed_to_buyers_and_agents_without_staff_access(client, open_case, agent):
    client.force_login(open_case.buyer)
    assert client.get(change_url(open_case)).status_code == 302  # to the admin login
