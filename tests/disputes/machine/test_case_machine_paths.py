"""The case state machine's boundaries and paths its table (test_case_machine.py) does not show:
waits at their last second, rules pinned at filing, second appeals, agents who are parties,
reassigned cases, stale copies, and the system account.

The clock is frozen at NOW."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from disputes import services
from disputes.exceptions import TransitionRefused
from disputes.models import Case, Decision
from policies.services import policy_save
from tests import factories
from tests.disputes.case_states import OFFERED_AMOUNT, bring_to, footprint, refused, reload
from tests.disputes.machine.rules import (
    AGENT_DECISION,
    APPEAL_WINDOW,
    GROUNDS,
    NOW,
    PROPOSED,
    RATIONALE,
    SECOND,
    SELLER_ANSWER,
    S,
    fire,
)


def test_case_escalate_right_after_seller_declines_needs_no_wait(open_case, buyer, seller):
    services.case_decline_claim(case=open_case, seller=seller)

    services.case_escalate(case=open_case, buyer=buyer)

    case = reload(open_case)
    assert case.state == S.ESCALATED
    assert case.agent_decision_due_at == NOW + AGENT_DECISION


def test_case_escalate_at_end_of_wait_is_allowed(open_case, buyer, clock):
    clock.move_to(open_case.buyer_may_escalate_at)

    services.case_escalate(case=open_case, buyer=buyer)

    assert reload(open_case).state == S.ESCALATED


def test_case_escalate_unanswered_is_refused_once_the_seller_has_answered(open_case, buyer, seller, clock):
    services.offer_make(case=open_case, seller=seller, kind="partial_refund", amount=OFFERED_AMOUNT)
    services.offer_decline(case=open_case, buyer=buyer)
    clock.shift(SELLER_ANSWER + SECOND)

    with refused(open_case, TransitionRefused):
        services.case_escalate_unanswered(case=open_case)

    # The buyer, whose wait has passed, can still ask for help.
    services.case_escalate(case=open_case, buyer=buyer)
    assert reload(open_case).state == S.ESCALATED


def test_case_escalate_unanswered_after_the_deadline_is_recorded_under_the_system(open_case, clock):
    clock.shift(SELLER_ANSWER + SECOND)

    services.case_escalate_unanswered(case=open_case)

    case = reload(open_case)
    assert case.state == S.ESCALATED
    assert case.history.first().history_user == services.system_user()
    assert case.history.first().history_change_reason == "The seller did not answer in time"


def test_case_deadlines_use_rules_pinned_at_filing(order, policy, people):
    pinned_case = factories.case(order_=order)
    policy.agent_decision_hours = 4
    policy.appeal_window_days = 2
    policy_save(policy=policy, actor=None, reason="Faster disputes")
    newer_case = factories.case(buyer=people["buyer"], seller=people["seller"])

    for case in (pinned_case, newer_case):
        bring_to(S.ESCALATED, case)
        services.case_claim(case=case, agent=people["agent"])
        services.case_decide(case=case, agent=people["agent"], **_mediation_decision())

    pinned_case, newer_case = reload(pinned_case), reload(newer_case)
    assert pinned_case.agent_decision_due_at == NOW + AGENT_DECISION
    assert pinned_case.appeal_until == NOW + APPEAL_WINDOW
    assert newer_case.agent_decision_due_at == NOW + timedelta(hours=4)
    assert newer_case.appeal_until == NOW + timedelta(days=2)


def test_case_appeal_on_last_moment_of_window_is_allowed(open_case, people, clock):
    case = bring_to(S.RESOLVED, open_case)
    clock.move_to(case.appeal_until)

    services.case_appeal(case=case, party=people["seller"], grounds=GROUNDS)

    assert reload(case).state == S.APPEALED


@pytest.mark.parametrize("second", ["buyer", "seller"])
def test_case_appeal_second_time_is_refused(second, open_case, people):
    case = bring_to(S.APPEALED, open_case)  # the buyer appealed

    with refused(case, TransitionRefused):
        services.case_appeal(case=case, party=people[second], grounds="Again.")


def test_case_appeal_after_appeal_decided_is_refused(open_case, people):
    case = bring_to(S.CLOSED, open_case, senior=people["senior"])

    with refused(case, TransitionRefused):
        services.case_appeal(case=case, party=people["seller"], grounds="Now me.")


@pytest.mark.parametrize("state", S.values)
def test_case_state_assignment_raises_attribute_error(state, open_case, people):
    case = bring_to(state, open_case, agent=people["agent"], senior=people["senior"])
    before = footprint(case)
    target = S.CLOSED if state != S.CLOSED else S.OPEN

    with pytest.raises(AttributeError):
        case.state = target

    assert case.state == state
    assert footprint(case) == before


@pytest.mark.parametrize("side", ["buyer", "seller"])
def test_case_claim_by_agent_who_is_party_is_refused(side, policy, people):
    parties = {"buyer": people["buyer"], "seller": people["seller"], side: people["agent"]}
    case = bring_to(S.ESCALATED, factories.case(**parties))

    with refused(case, PermissionDenied):
        services.case_claim(case=case, agent=people["agent"])


def test_case_decide_appeal_by_senior_who_is_party_is_refused(policy, people):
    case = bring_to(S.APPEALED, factories.case(buyer=people["buyer"], seller=people["senior"]))

    with refused(case, PermissionDenied):
        services.case_decide_appeal(case=case, agent=people["senior"], **_appeal_decision())


def test_case_decide_after_reassign_only_by_new_agent(open_case, people):
    case = bring_to(S.IN_MEDIATION, open_case, agent=people["agent"])
    services.case_reassign(case=case, actor=people["agent"], agent=people["other_agent"])

    with refused(case, PermissionDenied):
        services.case_decide(case=case, agent=people["agent"], **_mediation_decision())
    services.case_decide(case=case, agent=people["other_agent"], **_mediation_decision())

    case = reload(case)
    assert case.state == S.RESOLVED
    assert case.history.first().history_user == people["other_agent"]


def test_case_decide_appeal_by_mediating_agent_is_refused(open_case, people):
    """The agent who decided in mediation is not a senior agent: the appeal is not theirs."""
    case = bring_to(S.IN_MEDIATION, open_case, agent=people["agent"])
    services.case_decide(case=case, agent=people["agent"], **_mediation_decision())
    services.case_appeal(case=case, party=people["buyer"], grounds=GROUNDS)

    with refused(case, PermissionDenied):
        services.case_decide_appeal(case=case, agent=people["agent"], **_appeal_decision())


def test_case_decide_from_stale_copies_gives_one_decision(open_case, people):
    """Two agents working from the same page: the second gets a refusal, not a second decision."""
    case = bring_to(S.IN_MEDIATION, open_case, agent=people["agent"])
    first_copy, second_copy = reload(case), reload(case)
    services.case_decide(case=first_copy, agent=people["agent"], **_mediation_decision())

    with refused(case, TransitionRefused):
        services.case_decide(case=second_copy, agent=people["agent"], outcome="no_action", amount=None, rationale="-")

    assert Decision.objects.filter(case=case).count() == 1
    assert reload(case).outcome == "partial_refund"


def _mediation_decision():
    return {"outcome": "partial_refund", "amount": PROPOSED, "rationale": RATIONALE}


def _appeal_decision():
    return {"outcome": "full_refund", "amount": None, "rationale": RATIONALE}


def test_the_system_account_is_never_stored_able_to_sign_in(db):
    """Another process may read the account the moment it is inserted (two hosts running their
    first deadline pass at once): even then it must be the system account, not an ordinary one."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save

    from disputes.permissions import is_system_user

    stored_as = []

    def read_back(sender, instance, created, **kwargs):
        if created:
            stored_as.append(get_user_model().objects.get(pk=instance.pk))

    post_save.connect(read_back, sender=get_user_model(), dispatch_uid="test.system_account_read_back")
    try:
        system = services.system_user()
    finally:
        post_save.disconnect(dispatch_uid="test.system_account_read_back", sender=get_user_model())
    [first_read] = stored_as
    assert not first_read.has_usable_password() and not first_read.is_active
    assert is_system_user(first_read) and is_system_user(system)


def test_a_case_moved_by_someone_else_since_it_was_loaded_is_not_saved_over_it(open_case, people):
    """Two workers hold the same case: the one whose copy is stale cannot write its state back."""
    from django.db import transaction
    from django_fsm import ConcurrentTransition

    stale = Case.objects.get(pk=open_case.pk)
    fire("withdraw", reload(open_case), people["buyer"])

    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert reload(open_case).state != Case.State.OPEN
