from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from disputes import services
from disputes.exceptions import FilingRefused
from disputes.models import Case
from policies.models import Policy
from tests import factories


def file(order, *, buyer=None, amount="30.00", reason="damaged"):
    return services.case_file(
        buyer=buyer or order.buyer,
        order=order,
        reason=reason,
        requested_outcome="partial_refund",
        amount_claimed=Decimal(amount),
        description="Cracked on arrival.",
    )


def test_case_file_sets_deadlines_from_the_policy_in_force(policy, order, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    case = file(order)
    now = timezone.now()
    assert case.filed_at == now
    assert case.seller_answer_due_at == now + timedelta(hours=72)
    assert case.buyer_may_escalate_at == now + timedelta(hours=72)
    assert case.policy_version.id == policy.pk and case.policy_version.version == policy.version
    assert (case.buyer, case.seller, case.currency) == (order.buyer, order.seller, order.currency)
    assert case.reference == f"MS-{case.pk:06d}"


def test_case_file_after_the_window_is_refused_and_writes_nothing(policy, buyer, seller):
    late_order = factories.order(buyer=buyer, seller=seller, delivered_days_ago=31)
    with pytest.raises(FilingRefused) as refusal:
        file(late_order)
    assert "ended on" in refusal.value.errors["order"][0]
    assert not Case.objects.exists()


def test_case_file_on_the_last_day_of_the_window_is_accepted(policy, buyer, seller):
    order = factories.order(buyer=buyer, seller=seller, delivered_days_ago=29)
    assert file(order).state == Case.State.OPEN


def test_case_file_window_runs_from_dispatch_when_never_delivered(policy, buyer, seller):
    order = factories.order(buyer=buyer, seller=seller, delivered_days_ago=None, shipped_at=timezone.now() - timedelta(days=40))
    with pytest.raises(FilingRefused):
        file(order, reason="not_received")


def test_case_file_twice_for_one_order_is_refused(open_case):
    with pytest.raises(FilingRefused) as refusal:
        file(open_case.order)
    assert open_case.reference in refusal.value.errors["order"][0]
    assert Case.objects.count() == 1


def test_case_file_again_after_the_first_case_was_withdrawn_is_accepted(open_case):
    services.case_withdraw(case=open_case, buyer=open_case.buyer)
    assert file(open_case.order).state == Case.State.OPEN
    assert Case.objects.count() == 2


@pytest.mark.parametrize("amount", ["80.01", "0.00", "-5.00"])
def test_case_file_with_an_amount_outside_the_order_is_refused(order, amount):
    with pytest.raises(FilingRefused) as refusal:
        file(order, amount=amount)
    assert "amount_claimed" in refusal.value.errors
    assert not Case.objects.exists()


def test_case_file_for_the_whole_order_amount_is_accepted(order):
    assert file(order, amount="80.00").amount_claimed == Decimal("80.00")


def test_case_file_by_someone_other_than_the_buyer_is_refused(order, other_buyer, seller):
    for intruder in (other_buyer, seller):
        with pytest.raises(PermissionDenied):
            file(order, buyer=intruder)
    assert not Case.objects.exists()


def test_case_file_without_a_policy_in_force_is_refused(buyer, seller):
    order = factories.order(buyer=buyer, seller=seller)
    with pytest.raises(FilingRefused, match="No dispute policy"):
        file(order)


def test_case_file_pins_the_newest_published_policy(policy, order):
    newer = factories.dispute_policy(slug="disputes-2027", seller_answer_hours=24, effective_from=timezone.now() - timedelta(hours=1))
    factories.dispute_policy(slug="draft", is_published=False, effective_from=timezone.now())
    factories.dispute_policy(slug="future", effective_from=timezone.now() + timedelta(days=3))
    case = file(order)
    assert case.policy_version.id == newer.pk
    assert case.seller_answer_due_at - case.filed_at == timedelta(hours=24)


def test_case_file_of_a_cancelled_order_is_only_for_billing(policy, buyer, seller):
    order = factories.order(buyer=buyer, seller=seller, status="cancelled")
    with pytest.raises(FilingRefused):
        file(order, reason="damaged")
    assert file(order, reason="billing").state == Case.State.OPEN


def test_policy_edit_after_filing_leaves_the_case_deadlines_and_rules_unchanged(policy, order, admin_user):
    from policies.services import policy_save

    case = file(order)
    before = (case.seller_answer_due_at, case.buyer_may_escalate_at)
    policy.seller_answer_hours = 1
    policy.buyer_wait_hours = 1
    policy.agent_decision_hours = 1
    policy.appeal_window_days = 1
    policy_save(policy=policy, actor=admin_user, reason="Faster answers")

    case = Case.objects.get(pk=case.pk)
    assert (case.seller_answer_due_at, case.buyer_may_escalate_at) == before
    assert case.rules.seller_answer_hours == 72

    # Later deadlines are computed from the pinned rules too.
    services.case_decline_claim(case=case, seller=case.seller)
    case = services.case_escalate(case=case, buyer=case.buyer)
    assert case.agent_decision_due_at - case.escalated_at == timedelta(hours=48)

    # A case filed now takes the new version.
    second = file(factories.order(buyer=order.buyer, seller=order.seller))
    assert second.rules.seller_answer_hours == 1
    assert Policy.objects.get().version == 2
