"""The console's services: evidence requests and reassignment.

Cases are brought to their states only through the services (see `case_states`). A refusal is
checked with `refused`, which also asserts that the case and its history did not change.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from disputes import services
from disputes.exceptions import InvalidInput, TransitionRefused
from disputes.models import EvidenceRequest
from disputes.services.conversation import evidence_add
from tests import factories
from tests.disputes.case_states import bring_to, refused, reload
from tests.disputes.portal.helpers import photo
from tests.disputes.services.console_cases import S, decided_then_appealed, escalated, last_change, new_case

pytestmark = pytest.mark.usefixtures("by_hand")


# Evidence requests


@pytest.fixture
def mediation(policy, agent):
    return bring_to(S.IN_MEDIATION, new_case(), agent=agent)


def request_evidence(case, agent, party, *, hours=48):
    return services.evidence_request_create(
        case=case,
        agent=agent,
        party=party,
        note="A photo of the box, please.",
        due_at=timezone.now() + timedelta(hours=hours),
    )


def decide(case, agent):
    return services.case_decide(
        case=case, agent=agent, outcome="partial_refund", amount=Decimal("25.00"), rationale="Policy section 4."
    )


def test_evidence_request_by_the_assigned_agent_to_a_party_is_recorded(mediation, agent):
    request = request_evidence(mediation, agent, mediation.buyer)

    assert (request.requested_from_id, request.requested_by_id) == (mediation.buyer_id, agent.pk)
    assert request.is_outstanding
    change = last_change(reload(mediation))
    assert change.history_user_id == agent.pk
    assert change.history_change_reason.startswith("Evidence requested from the buyer by ")


def test_evidence_request_by_an_agent_not_assigned_is_refused(mediation):
    colleague = factories.agent_user(username="colleague")

    with refused(mediation, PermissionDenied):
        request_evidence(mediation, colleague, mediation.buyer)
    assert not EvidenceRequest.objects.exists()


def test_evidence_request_by_a_party_is_refused(mediation):
    with refused(mediation, PermissionDenied):
        request_evidence(mediation, mediation.buyer, mediation.seller)


@pytest.mark.parametrize("who", ["another agent", "an outsider"])
def test_evidence_request_to_someone_not_a_party_is_refused(mediation, agent, who):
    person = factories.agent_user(username="colleague") if who == "another agent" else factories.UserFactory()

    with refused(mediation, InvalidInput) as refusal:
        request_evidence(mediation, agent, person)
    assert "party" in refusal.value.errors
    assert not EvidenceRequest.objects.exists()


@pytest.mark.parametrize("hours", [0, -1])
def test_evidence_request_due_now_or_in_the_past_is_refused(mediation, agent, hours):
    with refused(mediation, InvalidInput) as refusal:
        request_evidence(mediation, agent, mediation.seller, hours=hours)
    assert "due_at" in refusal.value.errors


def test_evidence_request_on_a_case_not_in_mediation_is_refused(policy, agent):
    case = escalated()

    with refused(case, TransitionRefused):
        request_evidence(case, agent, case.buyer)


def test_decision_while_evidence_is_outstanding_is_refused(mediation, agent):
    request_evidence(mediation, agent, mediation.buyer)

    with refused(mediation, TransitionRefused) as refusal:
        decide(mediation, agent)
    assert "Evidence was requested" in refusal.value.message


def test_decision_after_the_party_adds_the_evidence_is_allowed(mediation, agent):
    request = request_evidence(mediation, agent, mediation.buyer)
    evidence_add(case=mediation, uploader=mediation.buyer, files=[photo()], description="The box.")

    decision = decide(mediation, agent)

    request.refresh_from_db()
    assert request.fulfilled_at is not None
    assert decision.decided_by_id == agent.pk
    assert reload(mediation).state == S.RESOLVED


def test_evidence_from_the_other_party_does_not_answer_the_request(mediation, agent):
    request_evidence(mediation, agent, mediation.buyer)
    evidence_add(case=mediation, uploader=mediation.seller, files=[photo()])

    with refused(mediation, TransitionRefused):
        decide(mediation, agent)


def test_decision_after_the_requested_date_passes_is_allowed_without_the_evidence(mediation, agent):
    request = request_evidence(mediation, agent, mediation.seller, hours=24)

    with time_machine.travel(request.due_at + timedelta(minutes=1)):
        decide(mediation, agent)

    request.refresh_from_db()
    assert request.fulfilled_at is None
    assert reload(mediation).state == S.RESOLVED


# Reassignment


def test_case_reassign_hands_the_case_to_another_agent(mediation, agent):
    colleague = factories.agent_user(username="colleague")

    services.case_reassign(case=mediation, actor=agent, agent=colleague)

    case = reload(mediation)
    assert case.agent_id == colleague.pk and case.state == S.IN_MEDIATION
    change = last_change(case)
    assert change.history_user_id == agent.pk
    assert change.history_change_reason == f"Reassigned from {agent} to {colleague}"


def test_case_reassign_by_a_party_is_refused(mediation, agent):
    colleague = factories.agent_user(username="colleague")

    with refused(mediation, PermissionDenied):
        services.case_reassign(case=mediation, actor=mediation.buyer, agent=colleague)
    assert reload(mediation).agent_id == agent.pk


@pytest.mark.parametrize("who", ["an outsider", "the seller", "an agent who is the seller"])
def test_case_reassign_to_someone_who_may_not_mediate_it_is_refused(policy, agent, who):
    if who == "an agent who is the seller":
        target = factories.agent_user(username="selling_agent")
        case = bring_to(S.IN_MEDIATION, new_case(seller=target), agent=agent)
    else:
        case = bring_to(S.IN_MEDIATION, new_case(), agent=agent)
        target = factories.UserFactory() if who == "an outsider" else case.seller

    with refused(case, InvalidInput) as refusal:
        services.case_reassign(case=case, actor=agent, agent=target)
    assert "agent" in refusal.value.errors
    assert reload(case).agent_id == agent.pk


def test_case_reassign_of_an_appeal_goes_to_senior_agents_only(policy, senior):
    appeal = decided_then_appealed(by=factories.agent_user(username="mediator"))
    services.appeal_claim(case=appeal, agent=senior)
    agent = factories.agent_user(username="junior")
    other_senior = factories.senior_agent_user(username="senior_two")

    with refused(appeal, InvalidInput):
        services.case_reassign(case=appeal, actor=senior, agent=agent)
    services.case_reassign(case=appeal, actor=senior, agent=other_senior)

    assert reload(appeal).agent_id == other_senior.pk


@pytest.mark.parametrize("state", [S.ESCALATED, S.RESOLVED])
def test_case_reassign_outside_mediation_and_appeal_is_refused(policy, agent, state):
    case = bring_to(state, new_case())

    with refused(case, TransitionRefused):
        services.case_reassign(case=case, actor=agent, agent=factories.agent_user(username="colleague"))
