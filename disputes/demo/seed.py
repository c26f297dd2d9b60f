"""The demo's people, policies, canned replies and spare orders, and `seed_demo`, which makes them and the cases."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from disputes import services
from disputes.demo.scenarios import SCENARIOS
from disputes.models import CannedReply, Order
from disputes.ratelimits import rate_limits_suspended
from disputes.roles import MARKETPLACE_INTEGRATIONS, POLICY_EDITORS, SENIOR_AGENTS, SUPPORT_AGENTS, ensure_staff_groups
from policies.models import Policy
from policies.services import policy_save

User = get_user_model()

PEOPLE = [
    # username, first name, last name, groups, is superuser
    ("buyer", "Bea", "Byers", [], False),
    ("buyer2", "Bruno", "Baker", [], False),
    ("seller", "Sol", "Sellwood", [], False),
    ("seller2", "Sara", "Stone", [], False),
    ("agent", "Alex", "Agenti", [SUPPORT_AGENTS], False),
    ("senior", "Sam", "Senior", [SENIOR_AGENTS], False),
    ("admin", "Ada", "Admin", [POLICY_EDITORS], True),
]

DISPUTES_POLICY_TEXT = """\
When an order goes wrong, open a case from the order within the filing window after delivery.

The seller has a set number of hours to answer: they may offer a refund, a partial refund, a return or \
a replacement, accept your claim, or decline it. If they decline, or do not answer in time, you can ask \
us to step in and a member of our team will review the case and decide.

Either side may appeal a decision once, within the appeal window. A senior member of our team reviews \
every appeal."""

OTHER_POLICIES = [
    (
        "returns",
        "Returns",
        Policy.Kind.RETURNS,
        "Items can be sent back within the return window. Keep the tracking number.",
    ),
    (
        "refunds",
        "Refunds",
        Policy.Kind.REFUNDS,
        "Refunds go back to the original payment method within five working days.",
    ),
    (
        "conduct",
        "Community conduct",
        Policy.Kind.CONDUCT,
        "Be courteous. Threats, abuse and off-site payments end a case.",
    ),
]

# Replies agents start from in the console; admins edit them. Placeholders are filled per case.
CANNED_REPLIES = [
    (
        "Taking the case",
        "Hello {buyer_name} and {seller_name},\n\nI am {agent_name} from the support team, and I am now handling "
        "case {reference} about “{item}”. I will read everything you have both sent and aim to decide by "
        "{deadline}.\n\nThank you for your patience.",
    ),
    (
        "Photos from the buyer",
        "Hello {buyer_name},\n\nTo decide case {reference} fairly, please add clear photos of the {item} and its "
        "packaging to the case by {deadline}. Without them we decide on what we have.\n\n{agent_name}",
    ),
    (
        "Proof of shipping from the seller",
        "Hello {seller_name},\n\nPlease add the shipping receipt or the tracking details for the {item} to case "
        "{reference} by {deadline}. Without them we decide on what we have.\n\n{agent_name}",
    ),
    (
        "Proposal explained",
        "Hello {buyer_name} and {seller_name},\n\nI have proposed an outcome for case {reference}. Each of you can "
        "accept or reject it from your case page; if you both accept, it settles the case.\n\n{agent_name}",
    ),
]

# Orders without a case, for filing one by hand.
SPARE_ORDERS = [
    (21, "buyer", "seller", "Canvas tote bag", "19.00"),
    (22, "buyer", "seller2", "Espresso cups (4)", "36.00"),
    (23, "buyer2", "seller", "Notebook, dotted", "14.50"),
]


def seed_demo(*, password: str) -> dict:
    """Create or refresh the demo data; returns counts of what was created."""
    ensure_staff_groups()
    people = {
        username: _person(username, first, last, groups, is_superuser, password)
        for username, first, last, groups, is_superuser in PEOPLE
    }
    created = {"policies": _policies(people["admin"]), "cases": 0, "orders": 0}
    for scenario in SCENARIOS:
        if Order.objects.filter(external_id=_external_id(scenario.number)).exists():
            continue
        with transaction.atomic(), rate_limits_suspended():  # a dozen cases for one buyer at once
            order = _order(
                scenario.number, people[scenario.buyer], people[scenario.seller], scenario.item, scenario.amount
            )
            case = services.case_file(
                buyer=order.buyer,
                order=order,
                reason=scenario.reason,
                requested_outcome=scenario.wants,
                amount_claimed=Decimal(scenario.claimed),
                description=scenario.story,
            )
            scenario.steps(case, people)
        created["orders"] += 1
        created["cases"] += 1
    for number, buyer, seller, item, amount in SPARE_ORDERS:
        if not Order.objects.filter(external_id=_external_id(number)).exists():
            _order(number, people[buyer], people[seller], item, amount)
            created["orders"] += 1
    created["canned_replies"] = _canned_replies(people["admin"])
    # Only now, with every scenario in its state: an available agent is assigned new escalations
    # automatically, which would take the escalated scenarios straight into mediation.
    services.agent_set_available(agent=people["agent"], available=True)
    created["api_token"] = _marketplace_service_account()
    return created


MARKETPLACE_USERNAME = "marketplace"


def _marketplace_service_account() -> str:
    """The marketplace's API account: token only (no password), in "Marketplace integrations".
    Returns its token, the same on every run."""
    user, _ = User.objects.get_or_create(
        username=MARKETPLACE_USERNAME, defaults={"first_name": "Marketplace", "last_name": "(API)"}
    )
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.set(Group.objects.filter(name=MARKETPLACE_INTEGRATIONS))
    return Token.objects.get_or_create(user=user)[0].key


def _canned_replies(admin) -> int:
    created = 0
    for title, body in CANNED_REPLIES:
        if not CannedReply.objects.filter(title=title).exists():
            reply = CannedReply(title=title, body=body)
            reply._history_user = admin
            reply.save()
            created += 1
    return created


def _person(username, first, last, groups, is_superuser, password):
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@demo.example"})
    user.first_name, user.last_name = first, last
    user.is_staff = bool(groups) or is_superuser
    user.is_superuser = is_superuser
    user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=groups))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def _policies(admin) -> int:
    created = 0
    if not Policy.objects.filter(slug="disputes").exists():
        policy_save(
            policy=Policy(
                slug="disputes",
                title="Buyer protection and disputes",
                kind=Policy.Kind.DISPUTES,
                body=DISPUTES_POLICY_TEXT,
                is_published=True,
                effective_from=timezone.now() - timedelta(days=365),
                auto_resolve_limit=Decimal("25.00"),
            ),
            actor=admin,
            reason="Demo policy",
        )
        created += 1
    for slug, title, kind, body in OTHER_POLICIES:
        if not Policy.objects.filter(slug=slug).exists():
            policy_save(
                policy=Policy(
                    slug=slug,
                    title=title,
                    kind=kind,
                    body=body,
                    is_published=True,
                    effective_from=timezone.now() - timedelta(days=365),
                ),
                actor=admin,
                reason="Demo policy",
            )
            created += 1
    return created


def _external_id(number: int) -> str:
    return f"DEMO-{number:04d}"


def _order(number, buyer, seller, item, amount) -> Order:
    now = timezone.now()
    return services.order_upsert(
        external_id=_external_id(number),
        buyer=buyer,
        seller=seller,
        item_title=item,
        amount=Decimal(amount),
        currency="EUR",
        status=Order.Status.DELIVERED,
        carrier="DHL",
        tracking_number=f"JD01460000{number:04d}",
        placed_at=now - timedelta(days=9),
        shipped_at=now - timedelta(days=7),
        delivered_at=now - timedelta(days=4),
    )
