"""Seller performance on hand-built sets: each figure worked out here, window edges, thresholds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from feedback.selectors import seller_performance
from tests import factories
from tests.feedback.helpers import case_for, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def at():
    return timezone.now().replace(microsecond=0)


def test_seller_performance_figures_on_a_hand_built_set(policy, seller, at):
    # 10 orders in the window: 4 carry cases, 6 more without.
    for _ in range(6):
        order_for(seller, placed_days_ago=20, at=at)
    case_for(seller, at=at, answered_after_hours=10)  # on time, 10 h
    case_for(seller, at=at, answered_after_hours=80)  # late (due at 72 h), 80 h
    case_for(seller, at=at, outcome="full_refund", resolved_after_hours=100, stage="mediation")  # never answered, due
    case_for(seller, at=at, filed_days_ago=1, outcome="no_action", resolved_after_hours=2, stage="mediation")  # not due
    perf = seller_performance(seller_ids=[seller.pk], at=at, policy=policy)[seller.pk]

    assert (perf.orders, perf.cases) == (10, 4)
    assert perf.dispute_rate == Decimal("40.00")  # 4 / 10
    assert (perf.answered_on_time, perf.answers_due) == (1, 3)  # the 1-day-old case is not due yet
    assert perf.on_time_rate == Decimal("33.33")
    assert perf.decided_against == 1  # the refund; "no action" went the seller's way
    assert perf.decided_against_rate == Decimal("25.00")
    assert perf.average_answer_time == timedelta(hours=45)  # (10 + 80) / 2
    assert perf.at_risk


def test_seller_performance_window_edges(policy, seller, at):
    window = policy.performance_window_days  # 90 by default
    assert window == 90
    case_for(
        seller, at=at, filed_days_ago=window, answered_after_hours=1, placed_days_ago=window
    )  # exactly at the start: out
    case_for(seller, at=at, filed_days_ago=window - 1, answered_after_hours=1, placed_days_ago=window - 1)
    perf = seller_performance(seller_ids=[seller.pk], at=at, policy=policy)[seller.pk]
    assert (perf.orders, perf.cases) == (1, 1)


def test_seller_performance_without_activity_has_no_rates_and_is_not_at_risk(policy, seller, at):
    perf = seller_performance(seller_ids=[seller.pk], at=at, policy=policy)[seller.pk]
    assert perf.dispute_rate is None and perf.on_time_rate is None and perf.decided_against_rate is None
    assert not perf.at_risk


def _seller_with_rate(at, cases, orders):
    seller = factories.UserFactory()
    for _ in range(orders - cases):
        order_for(seller, placed_days_ago=3, at=at)
    for _ in range(cases):
        case_for(seller, at=at, answered_after_hours=1)
    return seller


@pytest.mark.parametrize(("threshold", "at_risk"), [("5.00", True), ("5.01", False), ("4.99", True)])
def test_seller_performance_dispute_rate_at_risk_flips_at_the_threshold(threshold, at_risk, at):
    policy = factories.dispute_policy(risk_dispute_rate_percent=Decimal(threshold))
    seller = _seller_with_rate(at, cases=1, orders=20)  # exactly 5.00 %
    perf = seller_performance(seller_ids=[seller.pk], at=at, policy=policy)[seller.pk]
    assert perf.dispute_rate == Decimal("5.00")
    assert perf.at_risk is at_risk


@pytest.mark.parametrize(("minimum", "at_risk"), [("50.00", False), ("50.01", True)])
def test_seller_performance_on_time_rate_at_risk_flips_at_the_threshold(minimum, at_risk, at):
    policy = factories.dispute_policy(
        risk_on_time_answer_percent=Decimal(minimum), risk_dispute_rate_percent=Decimal("999.99")
    )
    seller = factories.UserFactory()
    case_for(seller, at=at, answered_after_hours=1)
    case_for(seller, at=at, answered_after_hours=73)
    perf = seller_performance(seller_ids=[seller.pk], at=at, policy=policy)[seller.pk]
    assert perf.on_time_rate == Decimal("50.00")
    assert perf.at_risk is at_risk
