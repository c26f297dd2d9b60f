from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from disputes import services
from disputes.models import Order
from disputes.ratelimits import rate_limits_suspended
from disputes.roles import SENIOR_AGENTS, SUPPORT_AGENTS
from policies.models import Policy
from policies.services import policy_save


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-2026")


def agent_user(**kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=SUPPORT_AGENTS))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def senior_agent_user(**kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=SENIOR_AGENTS))
    return get_user_model().objects.get(pk=user.pk)


def dispute_policy(**rules) -> Policy:
    """A published disputes policy in force since yesterday, saved through the service."""
    fields = {
        "slug": "disputes",
        "title": "Buyer protection and disputes",
        "kind": Policy.Kind.DISPUTES,
        "body": "How cases work.",
        "is_published": True,
        "effective_from": timezone.now() - timedelta(days=1),
        "filing_window_days": 30,
        "seller_answer_hours": 72,
        "buyer_wait_hours": 72,
        "agent_decision_hours": 48,
        "return_shipping_days": 10,
        "appeal_window_days": 7,
    }
    fields.update(rules)
    return policy_save(policy=Policy(**fields), actor=None, reason="Set up for a test")


def order(*, buyer=None, seller=None, amount=Decimal("80.00"), delivered_days_ago=2, **fields) -> Order:
    now = timezone.now()
    delivered_at = now - timedelta(days=delivered_days_ago) if delivered_days_ago is not None else None
    defaults = {
        "buyer": buyer or UserFactory(),
        "seller": seller or UserFactory(),
        "item_title": "Walnut desk lamp",
        "amount": amount,
        "currency": "EUR",
        "status": Order.Status.DELIVERED if delivered_at else Order.Status.SHIPPED,
        "placed_at": now - timedelta(days=(delivered_days_ago or 0) + 5),
        "shipped_at": now - timedelta(days=(delivered_days_ago or 0) + 3),
        "delivered_at": delivered_at,
        "carrier": "DHL",
        "tracking_number": "JD0001",
    }
    defaults.update(fields)
    external_id = defaults.pop("external_id", f"ORD-{Order.objects.count() + 1:05d}-{defaults['buyer'].pk}")
    return services.order_upsert(external_id=external_id, **defaults)


def case(*, order_=None, reason="not_as_described", requested_outcome="partial_refund", amount_claimed=None, **order_fields):
    """A case just filed by the buyer of a fresh order."""
    the_order = order_ or order(**order_fields)
    with rate_limits_suspended():  # the world a test starts from, not the buyer filing
        return services.case_file(
            buyer=the_order.buyer,
            order=the_order,
            reason=reason,
            requested_outcome=requested_outcome,
            amount_claimed=amount_claimed or Decimal("30.00"),
            description="The lamp arrived with a cracked shade.",
        )
