"""Hand-built cases for the figures: filed, answered, resolved and decided exactly when a test says."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from disputes.models import Case, Decision, Order
from tests import factories

def order_for(seller, *, buyer=None, placed_days_ago=10, at=None):
    at = at or timezone.now()
    made = factories.order(buyer=buyer, seller=seller)
    Order.objects.filter(pk=made.pk).update(placed_at=at - timedelta(days=placed_days_ago))
    return Order.objects.select_related("buyer", "seller").get(pk=made.pk)


def case_for(
    seller,
    *,
    at,
    filed_days_ago=5,
    answered_after_hours=None,
    due_after_hours=72,
    reason="not_as_described",
    outcome="",
    resolved_after_hours=None,
    stage=None,
    placed_days_ago=None,
    agent=None,
):
    """A case on a fresh order of `seller` (placed `placed_days_ago`, default just before filing),
    its timestamps then set directly: a fixture, not a workflow."""
    the_order = order_for(seller, placed_days_ago=placed_days_ago or filed_days_ago + 1, at=at)
    case = factories.case(order_=the_order, reason=reason)
    filed_at = at - timedelta(days=filed_days_ago)
    fields = {
        "filed_at": filed_at,
        "seller_answer_due_at": filed_at + timedelta(hours=due_after_hours),
        "seller_answered_at": filed_at + timedelta(hours=answered_after_hours)
        if answered_after_hours is not None
        else None,
        "outcome": outcome,
        "resolved_at": filed_at + timedelta(hours=resolved_after_hours) if resolved_after_hours is not None else None,
        "agent": agent,
    }
    if resolved_after_hours is not None:
        fields["state"] = Case.State.RESOLVED
    Case.objects.filter(pk=case.pk).update(**fields)
    if stage:
        Decision.objects.create(
            case=case,
            stage=stage,
            outcome=outcome,
            amount=Decimal("30.00") if outcome in ("full_refund", "partial_refund") else None,
            rationale="Test",
            decided_by=agent or factories.agent_user(),
            decided_at=filed_at + timedelta(hours=resolved_after_hours or 1),
        )
    case.refresh_from_db()
    return case
