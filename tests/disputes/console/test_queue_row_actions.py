"""What each queue row offers, decided by the selector from the state machine and the agent's rank."""

from disputes.selectors.queue import queue_filter, queue_page, queue_row_actions
from tests.disputes.case_states import bring_to
from tests.disputes.console.test_console_queue import escalate, file_case


def actions_for(user):
    page = queue_page(cases=queue_filter(user=user).qs, cursor=None)
    return dict(zip((case.reference for case in page.rows), queue_row_actions(cases=page.rows, user=user)))


def test_queue_row_actions_offer_claim_and_the_appeal_by_rank(policy, buyer, seller, agent, senior):
    waiting = escalate(file_case(buyer, seller))
    taken = bring_to("in_mediation", file_case(buyer, seller), agent=agent)
    appealed = bring_to("appealed", file_case(buyer, seller))

    expected = {waiting.reference: "claim", taken.reference: None}
    assert actions_for(agent) == {**expected, appealed.reference: "seniors_only"}
    assert actions_for(senior) == {**expected, appealed.reference: "take_appeal"}


def test_queue_row_actions_cost_no_query(policy, buyer, seller, agent, django_assert_num_queries):
    escalate(file_case(buyer, seller))
    bring_to("appealed", file_case(buyer, seller))
    page = queue_page(cases=queue_filter(user=agent).qs, cursor=None)
    agent.has_perm("disputes.mediate_case")  # a person's permissions load once, not per row

    with django_assert_num_queries(0):
        assert queue_row_actions(cases=page.rows, user=agent) == ["claim", "seniors_only"]
