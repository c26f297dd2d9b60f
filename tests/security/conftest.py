"""The world the URL matrix asks about: nine kinds of people and the records they may or may not reach.

`own` is what belongs to `buyer` and `seller` (an open case on their order, with a photo from the
buyer); `other` is the same between `other_buyer` and `other_seller`. Two more cases between two
strangers give the admin something of every kind to show (an offer, a decision, a refund, an
evidence request).
"""

import io
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token
from zeal import zeal_ignore

from disputes import services
from disputes.models import CannedReply, Case, Evidence, Order, WebhookDelivery, WebhookEndpoint
from disputes.roles import MARKETPLACE_INTEGRATIONS
from disputes.services.conversation import evidence_add
from tests import factories
from tests.disputes.case_states import bring_to

ROLES = ["anonymous", "buyer", "other_buyer", "seller", "other_seller", "agent", "senior_agent", "admin", "service"]


def png(name: str = "box.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), "teal").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@dataclass
class World:
    people: dict  # role -> user (anonymous: None)
    cases: dict  # "own" / "other" -> Case
    orders: dict  # "own" / "other" -> Order
    evidence: dict  # "own" / "other" -> Evidence
    spare_order: Order  # the buyer's delivered order from the seller with no case yet
    decided_case: Case  # between two strangers: closed after an appeal (offer, decisions, refund)
    mediated_case: Case  # between two strangers: in mediation with `agent`, who asked for evidence
    canned_reply: CannedReply
    tokens: dict = field(default_factory=dict)  # role -> API token key

    def sellers(self, scope: str):
        return self.people["seller" if scope == "own" else "other_seller"]


def build_world() -> World:
    with zeal_ignore():  # setting up runs the same service many times over; that is no N+1 of a request
        return _build_world()


def _build_world() -> World:
    policy = factories.dispute_policy()
    people = {
        "anonymous": None,
        "buyer": factories.UserFactory(username="buyer"),
        "other_buyer": factories.UserFactory(username="other_buyer"),
        "seller": factories.UserFactory(username="seller"),
        "other_seller": factories.UserFactory(username="other_seller"),
        "agent": factories.agent_user(username="agent"),
        "senior_agent": factories.senior_agent_user(username="senior"),
        "admin": factories.UserFactory(username="admin", is_staff=True, is_superuser=True),
        "service": factories.UserFactory(username="marketplace"),
    }
    people["service"].groups.add(Group.objects.get(name=MARKETPLACE_INTEGRATIONS))
    assert policy.slug == "disputes"

    orders, cases, evidence = {}, {}, {}
    for scope, buyer, seller in (("own", "buyer", "seller"), ("other", "other_buyer", "other_seller")):
        orders[scope] = factories.order(
            buyer=people[buyer], seller=people[seller], external_id=f"ORD-{scope.upper()}"
        )
        cases[scope] = factories.case(order_=orders[scope])
        evidence[scope] = evidence_add(case=cases[scope], uploader=people[buyer], files=[png()], description="Box")[0]
    spare = factories.order(buyer=people["buyer"], seller=people["seller"], external_id="ORD-SPARE")

    agent, senior = people["agent"], people["senior_agent"]
    decided = bring_to("closed", factories.case(item_title="Oak stool"), agent=agent, senior=senior)
    mediated = bring_to("in_mediation", factories.case(item_title="Glass vase"), agent=agent)
    services.evidence_request_create(
        case=mediated, agent=agent, party=mediated.buyer, note="A photo, please.", due_at=timezone.now() + timedelta(days=2)
    )
    services.agent_set_available(agent=agent, available=True)
    endpoint = WebhookEndpoint.objects.create(url="https://marketplace.example/hooks", events=["case.filed"])
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="case.filed", case=cases["own"], payload={"reference": cases["own"].reference},
        created_at=timezone.now(),
    )
    canned = CannedReply.objects.create(title="Greeting", body="Hello {buyer_name}, about {reference}.")
    # One right and then one wrong password on the sign-in page, so sign-in records exist for the admin.
    Client().post("/accounts/login/", {"username": "other_buyer", "password": "pass-word-2026"}, REMOTE_ADDR="10.0.0.9")
    Client().post("/accounts/login/", {"username": "other_buyer", "password": "not-it"}, REMOTE_ADDR="10.0.0.9")
    if apps.is_installed("axes"):  # the failure log is off by default; the admin still lists it
        apps.get_model("axes", "AccessFailureLog").objects.create(
            username="other_buyer", ip_address="10.0.0.9", user_agent="tests", path_info="/accounts/login/",
            http_accept="text/html", attempt_time=timezone.now(), locked_out=False,
        )

    world = World(
        people={role: (type(user).objects.get(pk=user.pk) if user else None) for role, user in people.items()},
        cases={scope: Case.objects.get(pk=case.pk) for scope, case in cases.items()},
        orders=orders,
        evidence={scope: Evidence.objects.get(pk=item.pk) for scope, item in evidence.items()},
        spare_order=spare,
        decided_case=decided,
        mediated_case=mediated,
        canned_reply=canned,
    )
    for role, user in world.people.items():
        if user is not None:
            world.tokens[role] = Token.objects.get_or_create(user=user)[0].key
    return world


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Evidence goes to a folder of its own per test, never into the project's media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def server_zone():
    """The time zone middleware leaves the request's zone active in the thread; start and end in UTC."""
    timezone.deactivate()
    yield
    timezone.deactivate()
