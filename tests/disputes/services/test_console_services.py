"""The console's services: take next, appeals, automatic assignment, evidence requests, reassignment.

Cases are brought to their states only through the services (see `case_states`). A refusal is
checked with `refused`, which also asserts that the case and its history did not change.
"""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.utils import timezone

from disputes import services
from disputes.exceptions import InvalidInput, TransitionRefused
from disputes.models import AgentStatus, Case, EvidenceRequest
from disputes.services.conversation import evidence_add
from tests import factories
from tests.disputes.case_states import bring_to, refused, reload
from tests.disputes.portal.helpers import photo

User = get_user_model()
S = Case.State


@pytest.fixture(autouse=True)
def by_hand(settings, tmp_path):
    """Escalations wait in the queue unless a test turns automatic assignment on."""
    settings.AUTO_ASSIGN_ESCALATIONS = False
    settings.MEDIA_ROOT = tmp_path / "media"


def new_case(**order_fields) -> Case:
    return factories.case(order_=factories.order(**order_fields))


def escalated(**order_fields) -> Case:
    return bring_to(S.ESCALATED, new_case(**order_fields))


def decided_then_appealed(*, by) -> Case:
    """`by` mediates and decides; the seller appeals, so the appeal waits for a senior agent."""
    case = bring_to(S.IN_MEDIATION, new_case(), agent=by)
    services.case_decide(
        case=case, agent=by, outcome="partial_refund", amount=Decimal("20.00"), rationale="Policy section 4."
    )
    services.case_appeal(case=reload(case), party=case.seller, grounds="The buyer broke the shade.")
    return reload(case)


def last_change(case: Case):
    return case.history.order_by("-history_date", "-history_id").first()


# Take next


def test_case_take_next_gives_the_most_urgent_unassigned_escalated_case(policy, agent):
    filed_first, filed_second = new_case(), new_case()
    start = timezone.now()
    with time_machine.travel(start + timedelta(hours=1)):
        bring_to(S.ESCALATED, filed_second)  # escalated first, so its decision is due first
    with time_machine.travel(start + timedelta(hours=2)):
        bring_to(S.ESCALATED, filed_first)
    colleague = factories.agent_user(username="colleague")
    taken_by_colleague = bring_to(S.IN_MEDIATION, new_case(), agent=colleague)
    new_case()  # still open: not in the queue

    with time_machine.travel(start + timedelta(hours=3)):
        case = services.case_take_next(agent=agent)

    assert case.pk == filed_second.pk
    case = reload(case)
    assert case.state == S.IN_MEDIATION and case.agent_id == agent.pk
    change = last_change(case)
    assert (change.history_user_id, change.history_change_reason) == (agent.pk, "Agent took the next case")
    assert reload(taken_by_colleague).agent_id == colleague.pk
    assert reload(filed_first).agent_id is None


def test_case_take_next_twice_gives_the_next_case_then_none(policy, agent):
    first, second = escalated(), escalated()

    taken = [services.case_take_next(agent=agent), services.case_take_next(agent=agent)]

    assert [case.pk for case in taken] == [first.pk, second.pk]
    assert services.case_take_next(agent=agent) is None


def test_case_take_next_returns_none_when_the_queue_is_empty(policy, agent):
    new_case()

    assert services.case_take_next(agent=agent) is None


def test_case_take_next_skips_a_case_where_the_agent_is_a_party(policy, agent):
    own = escalated(seller=agent)  # the agent also sells on the marketplace
    other = escalated()

    case = services.case_take_next(agent=agent)

    assert case.pk == other.pk
    assert services.case_take_next(agent=agent) is None
    own = reload(own)
    assert own.state == S.ESCALATED and own.agent_id is None


def test_case_take_next_never_gives_an_agent_an_appeal(policy, agent):
    appeal = decided_then_appealed(by=factories.agent_user(username="mediator"))

    assert services.case_take_next(agent=agent) is None
    assert reload(appeal).agent_id is None


def test_case_take_next_gives_a_senior_agent_an_appeal_in_its_turn(policy, senior):
    appeal = decided_then_appealed(by=factories.agent_user(username="mediator"))
    start = timezone.now()
    with time_machine.travel(start + timedelta(hours=1)):
        later = escalated()

    with time_machine.travel(start + timedelta(hours=2)):
        first = services.case_take_next(agent=senior)
        second = services.case_take_next(agent=senior)

    assert [first.pk, second.pk] == [appeal.pk, later.pk]
    appeal = reload(appeal)
    assert appeal.state == S.APPEALED and appeal.agent_id == senior.pk
    assert last_change(appeal).history_change_reason == f"Appeal taken by {senior.username}"


def test_case_take_next_does_not_give_a_senior_the_appeal_of_their_own_decision(policy, senior):
    appeal = decided_then_appealed(by=senior)

    assert services.case_take_next(agent=senior) is None

    other_senior = factories.senior_agent_user(username="senior_two")
    assert services.case_take_next(agent=other_senior).pk == appeal.pk


# Take next, two agents at once (PostgreSQL row locks)

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=f"needs PostgreSQL row locks (FOR UPDATE SKIP LOCKED); the database is {connection.vendor}",
)
RACE_TIMEOUT = 30


def race(agents):
    """Each agent presses "take next" in its own thread and connection, at the same moment."""
    barrier = threading.Barrier(len(agents), timeout=RACE_TIMEOUT)
    results = [None] * len(agents)

    def press(index, agent_pk):
        try:
            me = User.objects.get(pk=agent_pk)
            barrier.wait()
            results[index] = ("ok", services.case_take_next(agent=me))
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press, args=(i, a.pk), daemon=True) for i, a in enumerate(agents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "an agent is stuck (a lock never released?)"
    assert all(outcome == "ok" for outcome, _ in results), results
    return [case for _, case in results]


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_case_take_next_by_two_agents_at_once_gives_two_different_cases(policy):
    agents = [factories.agent_user(username="racer_a"), factories.agent_user(username="racer_b")]
    queued = [escalated(), escalated(), escalated()]

    taken = race(agents)

    assert None not in taken, taken
    assert len({case.pk for case in taken}) == 2
    for case, agent in zip(taken, agents):
        case = reload(case)
        assert case.state == S.IN_MEDIATION and case.agent_id == agent.pk
    for case in queued:
        claims = reload(case).history.filter(history_change_reason="Agent took the next case")
        assert claims.count() == (1 if case.pk in {c.pk for c in taken} else 0)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_case_take_next_by_three_agents_for_two_cases_gives_each_case_once(policy):
    agents = [factories.agent_user(username=f"racer_{n}") for n in range(3)]
    queued = [escalated(), escalated()]

    taken = race(agents)

    given = [case.pk for case in taken if case is not None]
    assert sorted(given) == sorted(case.pk for case in queued)
    assert taken.count(None) == 1
    for case in queued:
        case = reload(case)
        assert case.state == S.IN_MEDIATION
        assert case.history.filter(state=S.IN_MEDIATION).count() == 1


# Appeals


def test_appeal_claim_by_a_senior_who_did_not_decide_assigns_the_appeal(policy, senior):
    appeal = decided_then_appealed(by=factories.agent_user(username="mediator"))

    services.appeal_claim(case=appeal, agent=senior)

    appeal = reload(appeal)
    assert appeal.state == S.APPEALED and appeal.agent_id == senior.pk
    change = last_change(appeal)
    assert change.history_user_id == senior.pk and change.history_change_reason.startswith("Appeal taken by")


def test_appeal_claim_by_an_agent_who_is_not_senior_is_refused(policy, agent):
    appeal = decided_then_appealed(by=factories.agent_user(username="mediator"))

    with refused(appeal, PermissionDenied):
        services.appeal_claim(case=appeal, agent=agent)
    assert reload(appeal).agent_id is None


def test_appeal_claim_by_the_senior_who_decided_is_refused(policy, senior):
    appeal = decided_then_appealed(by=senior)

    with refused(appeal, TransitionRefused) as refusal:
        services.appeal_claim(case=appeal, agent=senior)
    assert "You decided this case" in refusal.value.message
    assert reload(appeal).agent_id is None


def test_appeal_claim_of_an_appeal_another_senior_has_is_refused(policy, senior):
    appeal = decided_then_appealed(by=factories.agent_user(username="mediator"))
    services.appeal_claim(case=appeal, agent=senior)
    second = factories.senior_agent_user(username="senior_two")

    with refused(appeal, TransitionRefused):
        services.appeal_claim(case=appeal, agent=second)
    assert reload(appeal).agent_id == senior.pk


@pytest.mark.parametrize("state", [S.ESCALATED, S.RESOLVED])
def test_appeal_claim_of_a_case_not_under_appeal_is_refused(policy, senior, state):
    case = bring_to(state, new_case())

    with refused(case, TransitionRefused):
        services.appeal_claim(case=case, agent=senior)
    assert reload(case).agent_id is None


def test_appeal_claim_by_a_senior_who_is_a_party_is_refused(policy, senior):
    the_order = factories.order(seller=senior)
    appeal = bring_to(S.APPEALED, factories.case(order_=the_order))

    with refused(appeal, PermissionDenied):
        services.appeal_claim(case=appeal, agent=senior)


# Automatic assignment


@pytest.fixture
def auto(settings):
    settings.AUTO_ASSIGN_ESCALATIONS = True
    settings.AGENT_MAX_OPEN_CASES = 15
    return settings


def buyer_escalates(**order_fields) -> Case:
    """A new case the seller declines and the buyer escalates at once (wherever it then lands)."""
    case = new_case(**order_fields)
    services.case_decline_claim(case=case, seller=case.seller)
    services.case_escalate(case=case, buyer=case.buyer)
    return reload(case)


def available(*agents):
    for agent in agents:
        services.agent_set_available(agent=agent, available=True)


def named_agent(username, first, last):
    return factories.agent_user(username=username, first_name=first, last_name=last)


def test_escalations_alternate_between_two_available_agents(policy, auto):
    ana, ben = named_agent("ana", "Ana", "Lopez"), named_agent("ben", "Ben", "Okafor")
    available(ana, ben)

    cases = [buyer_escalates() for _ in range(4)]

    assert [case.agent_id for case in cases] == [ana.pk, ben.pk, ana.pk, ben.pk]
    assert all(case.state == S.IN_MEDIATION for case in cases)
    change = last_change(cases[1])
    assert change.history_user.username == "system"
    assert change.history_change_reason == "Assigned to Ben Okafor automatically"


def test_escalation_skips_an_agent_at_the_cap(policy, auto):
    auto.AGENT_MAX_OPEN_CASES = 1
    ana, ben = named_agent("ana", "Ana", "Lopez"), named_agent("ben", "Ben", "Okafor")
    bring_to(S.IN_MEDIATION, new_case(), agent=ana)  # taken by hand: Ana is at the cap
    available(ana, ben)

    case = buyer_escalates()

    assert case.agent_id == ben.pk


def test_escalation_stays_in_the_queue_when_every_agent_is_at_the_cap(policy, auto):
    auto.AGENT_MAX_OPEN_CASES = 1
    ana, ben = named_agent("ana", "Ana", "Lopez"), named_agent("ben", "Ben", "Okafor")
    available(ana, ben)
    first, second = buyer_escalates(), buyer_escalates()
    assert {first.agent_id, second.agent_id} == {ana.pk, ben.pk}

    third = buyer_escalates()

    assert third.state == S.ESCALATED and third.agent_id is None
    assert not third.history.filter(history_change_reason__contains="automatically").exists()
    assert services.case_take_next(agent=factories.agent_user(username="carla")).pk == third.pk


def test_unavailable_agents_never_get_an_escalation(policy, auto):
    ana, ben = named_agent("ana", "Ana", "Lopez"), named_agent("ben", "Ben", "Okafor")
    named_agent("cleo", "Cleo", "Never")  # no status at all: never opted in
    available(ana, ben)
    services.agent_set_available(agent=ben, available=False)

    cases = [buyer_escalates() for _ in range(3)]

    assert [case.agent_id for case in cases] == [ana.pk] * 3


def test_escalation_with_nobody_available_stays_in_the_queue(policy, auto, agent):
    case = buyer_escalates()

    assert case.state == S.ESCALATED and case.agent_id is None


def test_escalation_is_not_given_to_an_available_agent_who_is_a_party(policy, auto):
    ana, ben = named_agent("ana", "Ana", "Lopez"), named_agent("ben", "Ben", "Okafor")
    available(ana, ben)

    case = buyer_escalates(seller=ana)

    assert case.agent_id == ben.pk


def test_escalation_when_the_seller_never_answers_is_assigned_too(policy, auto):
    ana = named_agent("ana", "Ana", "Lopez")
    available(ana)
    case = new_case()

    with time_machine.travel(case.seller_answer_due_at + timedelta(minutes=1)):
        services.case_escalate_unanswered(case=case)

    case = reload(case)
    assert case.state == S.IN_MEDIATION and case.agent_id == ana.pk
    assert last_change(case).history_change_reason == "Assigned to Ana Lopez automatically"


def test_escalation_with_auto_assignment_off_assigns_nobody(policy, settings):
    settings.AUTO_ASSIGN_ESCALATIONS = False
    ana = named_agent("ana", "Ana", "Lopez")
    available(ana)

    case = buyer_escalates()

    assert case.state == S.ESCALATED and case.agent_id is None
    assert AgentStatus.objects.get(agent=ana).last_assigned_at is None


def test_agent_set_available_is_for_agents_only(policy, buyer):
    with pytest.raises(PermissionDenied):
        services.agent_set_available(agent=buyer, available=True)
    assert not AgentStatus.objects.filter(agent=buyer).exists()


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
