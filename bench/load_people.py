"""The people of the load run, seeded in this process through the ORM and the services: buyers,
sellers and agents (one in ten an agent, one in five a seller), three delivered orders per buyer,
one case filed on the first (a third of them declined and escalated, so the queue has work), the
room each person's socket watches, and their API tokens and session cookies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from bench.harness import session_cookies


@dataclass
class Person:
    username: str
    role: str  # buyer | seller | agent
    token: str = ""
    cookies: dict = field(default_factory=dict)
    room: str = ""  # the case whose socket this person keeps open
    unfiled_orders: list[str] = field(default_factory=list)


@dataclass
class Population:
    people: list[Person]
    order_amounts: dict[str, Decimal]


def seed(users: int, *, prefix: str = "load", orders_per_buyer: int = 3) -> Population:
    """People, orders and one filed case per buyer; a third of those cases wait in the queue."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from disputes import services
    from disputes.models import Order
    from disputes.ratelimits import rate_limits_suspended
    from disputes.roles import SUPPORT_AGENTS, ensure_staff_groups
    from policies.models import Policy
    from policies.services import policy_save

    User = get_user_model()
    ensure_staff_groups()
    if not Policy.objects.filter(kind=Policy.Kind.DISPUTES, is_published=True).exists():
        policy_save(
            policy=Policy(
                slug="disputes",
                title="Buyer protection and disputes",
                kind=Policy.Kind.DISPUTES,
                body="How cases work.",
                is_published=True,
                effective_from=timezone.now() - timedelta(days=1),
                filing_window_days=30,
                seller_answer_hours=72,
                buyer_wait_hours=72,
                agent_decision_hours=48,
                return_shipping_days=10,
                appeal_window_days=7,
            ),
            actor=None,
            reason="Load test",
        )
    agents_count = max(1, users // 10)
    sellers_count = max(1, users // 5)
    buyers_count = max(1, users - agents_count - sellers_count)

    def person(role: str, index: int) -> tuple[Person, object]:
        user = User.objects.create_user(username=f"{prefix}-{role}-{index}", password=None, first_name=role.title())
        if role == "agent":
            user.groups.add(Group.objects.get(name=SUPPORT_AGENTS))
        token = Token.objects.create(user=user)
        return Person(username=user.username, role=role, token=token.key), user

    agents = [person("agent", i) for i in range(agents_count)]
    sellers = [person("seller", i) for i in range(sellers_count)]
    buyers = [person("buyer", i) for i in range(buyers_count)]
    now = timezone.now()
    amounts: dict[str, Decimal] = {}
    queued = []
    seller_rooms: dict[str, str] = {}
    with rate_limits_suspended():
        for index, (buyer, buyer_user) in enumerate(buyers):
            seller, seller_user = sellers[index % len(sellers)]
            for number in range(orders_per_buyer):
                external_id = f"{prefix}-{index}-{number}"
                amounts[external_id] = Decimal(60 + 10 * number)
                order = services.order_upsert(
                    external_id=external_id,
                    buyer=buyer_user,
                    seller=seller_user,
                    item_title=f"Item {number} of {buyer.username}",
                    amount=amounts[external_id],
                    currency="EUR",
                    status=Order.Status.DELIVERED,
                    placed_at=now - timedelta(days=7),
                    shipped_at=now - timedelta(days=5),
                    delivered_at=now - timedelta(days=2),
                    carrier="DHL",
                    tracking_number=f"JD{index:04d}{number}",
                )
                if number:
                    buyer.unfiled_orders.append(external_id)
                    continue
                case = services.case_file(
                    buyer=buyer_user,
                    order=order,
                    reason="not_as_described",
                    requested_outcome="partial_refund",
                    amount_claimed=Decimal("20.00"),
                    description="Load test: not as described.",
                )
                buyer.room = case.reference
                seller_rooms.setdefault(seller.username, case.reference)
                if index % 3 == 0:
                    services.case_decline_claim(case=case, seller=seller_user, note="Load test")
                    services.case_escalate(case=case, buyer=buyer_user)
                    queued.append(case.reference)
    for seller, _ in sellers:
        seller.room = seller_rooms.get(seller.username, buyers[0][0].room)
    for index, (agent, _) in enumerate(agents):
        agent.room = queued[index % len(queued)] if queued else buyers[0][0].room
    people = [p for p, _ in buyers + sellers + agents]
    for p in people:
        p.cookies = session_cookies(p.username)
    return Population(people=people, order_amounts=amounts)
