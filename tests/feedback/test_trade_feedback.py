"""Trade feedback: who may leave it, once, the edit window, scores, and withdrawal for the seller."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from disputes import services as dispute_services
from disputes.exceptions import InvalidInput
from feedback import services
from feedback.exceptions import FeedbackRefused
from feedback.models import TradeFeedback
from feedback.selectors import feedback_scores
from tests import factories

pytestmark = pytest.mark.django_db


def test_trade_feedback_leave_by_buyer_rates_the_seller(order, buyer, seller):
    feedback = services.trade_feedback_leave(order=order, author=buyer, rating="positive", comment=" Great ")
    assert (feedback.recipient, feedback.direction, feedback.comment) == (seller, "buyer_to_seller", "Great")
    assert feedback.editable_until == feedback.created_at + timedelta(days=7)
    assert feedback.history.count() == 1


def test_trade_feedback_leave_by_seller_rates_the_buyer(order, buyer, seller):
    feedback = services.trade_feedback_leave(order=order, author=seller, rating="neutral")
    assert (feedback.recipient, feedback.direction) == (buyer, "seller_to_buyer")


def test_trade_feedback_leave_twice_is_refused(order, buyer):
    services.trade_feedback_leave(order=order, author=buyer, rating="positive")
    with pytest.raises(FeedbackRefused, match="already left feedback"):
        services.trade_feedback_leave(order=order, author=buyer, rating="negative")
    assert TradeFeedback.objects.get().rating == "positive"


def test_trade_feedback_leave_out_of_range_rating_is_refused(order, buyer):
    with pytest.raises(InvalidInput, match="positive, neutral or negative"):
        services.trade_feedback_leave(order=order, author=buyer, rating="excellent")
    assert not TradeFeedback.objects.exists()


def test_trade_feedback_leave_by_non_party_is_refused(order, other_buyer):
    with pytest.raises(PermissionDenied, match="Only the buyer and the seller"):
        services.trade_feedback_leave(order=order, author=other_buyer, rating="negative")


def test_trade_feedback_leave_before_delivery_is_refused(policy, buyer, seller):
    undelivered = factories.order(buyer=buyer, seller=seller, delivered_days_ago=None)
    with pytest.raises(FeedbackRefused, match="once the order is delivered"):
        services.trade_feedback_leave(order=undelivered, author=buyer, rating="positive")


def test_trade_feedback_edit_within_the_window_keeps_history(order, buyer, time_machine):
    services.trade_feedback_leave(order=order, author=buyer, rating="negative")
    time_machine.move_to(timezone.now() + timedelta(days=6, hours=23))
    services.trade_feedback_edit(order=order, author=buyer, rating="positive", comment="Sorted out")
    feedback = TradeFeedback.objects.get()
    assert feedback.rating == "positive"
    assert [row.rating for row in feedback.history.order_by("history_id")] == ["negative", "positive"]


def test_trade_feedback_edit_after_the_window_is_refused(order, buyer, time_machine):
    services.trade_feedback_leave(order=order, author=buyer, rating="negative")
    time_machine.move_to(timezone.now() + timedelta(days=7, seconds=1))
    with pytest.raises(FeedbackRefused, match="has passed"):
        services.trade_feedback_edit(order=order, author=buyer, rating="positive")


def test_trade_feedback_edit_window_follows_the_policy(buyer, seller):
    factories.dispute_policy(feedback_edit_days=2)
    made = factories.order(buyer=buyer, seller=seller)
    feedback = services.trade_feedback_leave(order=made, author=buyer, rating="positive")
    assert feedback.editable_until - feedback.created_at == timedelta(days=2)


def test_feedback_scores_count_the_last_12_months_and_share_ignores_neutral(policy, seller):
    ratings = ["positive", "positive", "positive", "negative", "neutral"]
    for rating in ratings:
        made = factories.order(seller=seller)
        services.trade_feedback_leave(order=made, author=made.buyer, rating=rating)
    now = timezone.now()
    old = TradeFeedback.objects.filter(rating="positive").first()
    TradeFeedback.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=365))  # just outside
    score = feedback_scores(user_ids=[seller.pk], at=now)[seller.pk]
    assert (score.positive, score.neutral, score.negative) == (2, 1, 1)
    assert score.positive_share == Decimal("66.7")  # 2 / (2 + 1)


def _decided(case, seller, buyer, agent, outcome):
    dispute_services.case_decline_claim(case=case, seller=seller)
    dispute_services.case_escalate(case=case, buyer=buyer)
    dispute_services.case_claim(case=case, agent=agent)
    amount = Decimal("30.00") if outcome == "partial_refund" else None
    dispute_services.case_decide(case=case, agent=agent, outcome=outcome, amount=amount, rationale="Looked at it.")


def test_negative_feedback_is_withdrawn_when_an_agent_decides_for_the_seller(
    open_case, buyer, seller, agent, django_capture_on_commit_callbacks
):
    feedback = services.trade_feedback_leave(order=open_case.order, author=buyer, rating="negative")
    with django_capture_on_commit_callbacks(execute=True):
        _decided(open_case, seller, buyer, agent, "no_action")
    feedback.refresh_from_db()
    assert feedback.withdrawn_at is not None and "for the seller" in feedback.withdrawn_reason
    assert feedback.history.count() == 2  # left, then withdrawn: kept
    assert feedback_scores(user_ids=[seller.pk], at=timezone.now())[seller.pk].negative == 0


def test_negative_feedback_stays_when_the_agent_decides_for_the_buyer(
    open_case, buyer, seller, agent, django_capture_on_commit_callbacks
):
    feedback = services.trade_feedback_leave(order=open_case.order, author=buyer, rating="negative")
    with django_capture_on_commit_callbacks(execute=True):
        _decided(open_case, seller, buyer, agent, "partial_refund")
    feedback.refresh_from_db()
    assert feedback.withdrawn_at is None


def test_negative_feedback_left_after_a_decision_for_the_seller_does_not_count(
    open_case, buyer, seller, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _decided(open_case, seller, buyer, agent, "no_action")
    feedback = services.trade_feedback_leave(order=open_case.order, author=buyer, rating="negative")
    assert feedback.withdrawn_at is not None
