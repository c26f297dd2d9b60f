"""The console's services: take next, appeals, automatic assignment (evidence requests and
reassignment: test_evidence_and_reassignment.py).

Cases are brought to their states only through the services (see `case_states`). A refusal is
checked with `refused`, which also asserts that the case and its history did not change.
"""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.utils import timezone

from disputes import services
from disputes.exceptions import TransitionRefused
from disputes.models import AgentStatus, Case
from tests import factories
from tests.disputes.case_states import bring_to, refused, reload
from tests.disputes.services.console_cases import S, decided_then_appealed, escalated, last_change, new_case

User = get_user_model()


pytestmark = pytest.mark.usefixtures("by_hand")


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
