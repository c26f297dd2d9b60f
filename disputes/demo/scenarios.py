"""Demo data: people, a dispute policy, orders and cases in every state.

Every case is brought to its state through the services, so its history is real. Running
it again changes nothing that exists: users keep their rows (their password is reset to the
demo password), and a scenario whose order exists is skipped.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from disputes import services
from disputes.models import CannedReply, Case, Order
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


@dataclass(frozen=True)
class Scenario:
    number: int
    buyer: str
    seller: str
    item: str
    amount: str
    reason: str
    wants: str
    claimed: str
    story: str
    steps: Callable[[Case, dict], None]


def _offer_partial(case, people):
    services.offer_make(
        case=case,
        seller=people[case.seller.username],
        kind="partial_refund",
        amount=Decimal("12.00"),
        note="Sorry about that. Would a partial refund help?",
    )


def _offer_replacement(case, people):
    services.offer_make(
        case=case, seller=people[case.seller.username], kind="replacement", note="I can send a new one tomorrow."
    )


def _decline(case, people):
    services.case_decline_claim(
        case=case, seller=people[case.seller.username], note="The item was as described in the listing."
    )


def _escalate(case, people):
    _decline(case, people)
    services.case_escalate(case=case, buyer=people[case.buyer.username], note="Please look at the photos.")


def _mediate(case, people):
    _escalate(case, people)
    services.case_claim(case=case, agent=people["agent"])


def _propose(case, people):
    _mediate(case, people)
    services.proposal_make(
        case=case,
        agent=people["agent"],
        kind="partial_refund",
        amount=Decimal("20.00"),
        note="A partial refund seems fair given the photos.",
    )


def _accept_return(case, people):
    services.case_accept_claim(case=case, seller=people[case.seller.username])


def _return_shipped(case, people):
    _accept_return(case, people)
    services.case_mark_return_shipped(
        case=case, buyer=people[case.buyer.username], carrier="DHL", tracking_number="JD014600006281"
    )


def _offer_accepted(case, people):
    _offer_partial(case, people)
    services.offer_accept(case=case, buyer=people[case.buyer.username])


def _claim_accepted(case, people):
    services.case_accept_claim(case=case, seller=people[case.seller.username])


def _decided(case, people):
    _mediate(case, people)
    services.case_decide(
        case=case,
        agent=people["agent"],
        outcome="no_action",
        amount=None,
        rationale="Disputes policy: the listing described the scuff; the seller is upheld.",
    )


def _return_confirmed(case, people):
    _return_shipped(case, people)
    services.case_confirm_return(case=case, seller=people[case.seller.username])


def _appealed(case, people):
    _decided(case, people)
    services.case_appeal(
        case=case, party=people[case.buyer.username], grounds="The scuff was not visible in any listing photo."
    )


def _appeal_decided(case, people):
    _appealed(case, people)
    services.appeal_claim(case=case, agent=people["senior"])
    services.case_decide_appeal(
        case=case,
        agent=people["senior"],
        outcome="partial_refund",
        amount=Decimal("25.00"),
        rationale="Disputes policy: defects must be shown in the listing; partly overturned.",
    )


def _withdrawn(case, people):
    services.case_withdraw(case=case, buyer=people[case.buyer.username], note="It turned up at a neighbour's.")


def _withdrawn_after_escalation(case, people):
    _escalate(case, people)
    services.case_withdraw(case=case, buyer=people[case.buyer.username], note="We sorted it out by phone.")


def _nothing(case, people):
    pass


SCENARIOS = [
    Scenario(
        1,
        "buyer",
        "seller",
        "Bluetooth headphones",
        "59.90",
        "not_received",
        "full_refund",
        "59.90",
        "Tracking says delivered but nothing arrived.",
        _nothing,
    ),
    Scenario(
        2,
        "buyer2",
        "seller2",
        "Ceramic teapot",
        "34.00",
        "damaged",
        "replacement",
        "34.00",
        "The spout broke in transit.",
        _nothing,
    ),
    Scenario(
        3,
        "buyer",
        "seller2",
        "Wool scarf, green",
        "25.00",
        "wrong_item",
        "return_and_refund",
        "25.00",
        "I ordered green and got red.",
        _nothing,
    ),
    Scenario(
        4,
        "buyer",
        "seller",
        "Desk lamp",
        "42.00",
        "not_as_described",
        "partial_refund",
        "15.00",
        "The shade has a crack the photos did not show.",
        _offer_partial,
    ),
    Scenario(
        5,
        "buyer2",
        "seller",
        "Phone case",
        "12.50",
        "damaged",
        "replacement",
        "12.50",
        "The case arrived split at the corner.",
        _offer_replacement,
    ),
    Scenario(
        6,
        "buyer",
        "seller2",
        "Vintage poster",
        "80.00",
        "not_as_described",
        "partial_refund",
        "30.00",
        "The poster is a reprint, not an original.",
        _decline,
    ),
    Scenario(
        7,
        "buyer",
        "seller",
        "Running shoes",
        "95.00",
        "not_as_described",
        "full_refund",
        "95.00",
        "The soles are worn; they were sold as new.",
        _escalate,
    ),
    Scenario(
        8,
        "buyer2",
        "seller2",
        "Board game",
        "39.99",
        "not_received",
        "full_refund",
        "39.99",
        "No tracking updates for three weeks.",
        _escalate,
    ),
    Scenario(
        9,
        "buyer",
        "seller",
        "Mechanical keyboard",
        "129.00",
        "damaged",
        "partial_refund",
        "40.00",
        "Two keys do not register.",
        _mediate,
    ),
    Scenario(
        10,
        "buyer2",
        "seller",
        "Coffee grinder",
        "64.00",
        "not_as_described",
        "partial_refund",
        "30.00",
        "It grinds unevenly; the listing promised uniform grinds.",
        _propose,
    ),
    Scenario(
        11,
        "buyer",
        "seller",
        "Linen shirt",
        "45.00",
        "change_of_mind",
        "return_and_refund",
        "45.00",
        "It does not fit; I would like to send it back.",
        _accept_return,
    ),
    Scenario(
        12,
        "buyer2",
        "seller2",
        "Rain jacket",
        "70.00",
        "wrong_item",
        "return_and_refund",
        "70.00",
        "Wrong size sent.",
        _return_shipped,
    ),
    Scenario(
        13,
        "buyer",
        "seller",
        "Plant pot set",
        "28.00",
        "damaged",
        "partial_refund",
        "12.00",
        "One of the three pots was chipped.",
        _offer_accepted,
    ),
    Scenario(
        14,
        "buyer2",
        "seller",
        "USB-C cable",
        "9.99",
        "not_received",
        "full_refund",
        "9.99",
        "Never arrived.",
        _claim_accepted,
    ),
    Scenario(
        15,
        "buyer",
        "seller2",
        "Leather wallet",
        "55.00",
        "not_as_described",
        "full_refund",
        "55.00",
        "There is a scuff on the front.",
        _decided,
    ),
    Scenario(
        16,
        "buyer",
        "seller",
        "Bookshelf speakers",
        "149.00",
        "damaged",
        "return_and_refund",
        "149.00",
        "The left speaker crackles.",
        _return_confirmed,
    ),
    Scenario(
        17,
        "buyer2",
        "seller",
        "Camera strap",
        "22.00",
        "not_as_described",
        "full_refund",
        "22.00",
        "The strap is shorter than listed.",
        _appealed,
    ),
    Scenario(
        18,
        "buyer",
        "seller2",
        "Denim jacket",
        "88.00",
        "not_as_described",
        "full_refund",
        "88.00",
        "Stains on the back not shown in the listing.",
        _appeal_decided,
    ),
    Scenario(
        19,
        "buyer",
        "seller",
        "Paperback novel",
        "11.00",
        "not_received",
        "full_refund",
        "11.00",
        "Not here yet.",
        _withdrawn,
    ),
    Scenario(
        20,
        "buyer2",
        "seller2",
        "Yoga mat",
        "31.00",
        "damaged",
        "replacement",
        "31.00",
        "Torn at one end.",
        _withdrawn_after_escalation,
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
