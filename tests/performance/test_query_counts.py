"""Every list reads in the same number of queries with one row as with fifty.

What each page shows is tested beside it; some of these pages also have a bound on their queries
there (tests/disputes/portal/test_lists_and_queries.py, tests/disputes/console/test_console_queue.py,
tests/disputes/console/test_console_workspace.py, tests/feedback/test_reports.py,
tests/api/test_cases_api.py). Here each page is read twice with 1 row and again with 50 and the
counts must be equal: a query per row shows at once, with the SQL of both reads in the message.
"""

import difflib
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from disputes import services
from disputes.models import CannedReply, Evidence, Message, Notification
from policies.models import Policy
from policies.services import policy_save
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import Page, image_bytes, select
from tests.feedback.helpers import case_for

ROWS = 50


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class World:
    buyer: object
    seller: object
    agent: object
    admin: object
    policy: Policy
    reply: CannedReply


@pytest.fixture
def world(policy, buyer, seller, agent, admin_user):
    reply = CannedReply(title="Hello", body="Hi {buyer_name}")
    reply._history_user = admin_user
    reply.save()
    return World(buyer, seller, agent, admin_user, policy, reply)


def new_case(world, **order_fields):
    return factories.case(order_=factories.order(buyer=world.buyer, seller=world.seller, **order_fields))


def add_messages_and_evidence(case, count):
    """Rows written directly: what the page reads, not how it was posted (posting is rate limited)."""
    now = timezone.now()
    Message.objects.bulk_create(
        Message(case=case, author=[case.buyer, case.seller][n % 2], body=f"Message {n}", created_at=now)
        for n in range(count)
    )
    for n in range(count):
        Evidence.objects.create(
            case=case,
            uploaded_by=case.buyer,
            file=SimpleUploadedFile(f"photo-{n}.png", image_bytes("PNG")),
            original_name=f"photo-{n}.png",
            content_type="image/png",
            size=100,
            sha256="0" * 64,
            created_at=now,
        )


def add_offers(case, count):
    """Each offer replaces the last one: the case's history grows by one row each time."""
    for n in range(count):
        services.offer_make(case=case, seller=case.seller, kind="partial_refund", amount=Decimal("5.00") + n)


# One entry per page: who reads it, the case it is about (if any), how to add rows, how to count
# the rows it shows.


@dataclass
class Listing:
    reader: str  # buyer, seller, agent, admin, anonymous
    url: str  # "{ref}" is the first case's reference
    add: Callable  # (world, case, how many)
    shown: Callable  # (response) -> rows on the page
    case_state: str = "open"
    token: bool = False  # the API, as an app calls it


def html_rows(tag, cls=None, within=None):
    def count(response):
        page = Page(response)
        root = page.one(within) if within else None
        return len(select(root, tag, cls=cls) if root is not None else page.select(tag, cls=cls))

    return count


def json_rows(key=None):
    def count(response):
        body = response.json()
        if key:
            body = body[key]
        return len(body["results"] if isinstance(body, dict) and "results" in body else body)

    return count


def more_cases(world, case, count):
    for n in range(count):
        new_case(world, item_title=f"Item {n}")


def more_orders(world, case, count):
    for n in range(count):
        factories.order(buyer=world.buyer, seller=world.seller, item_title=f"Item {n}")


def more_orders_to_file_on(world, case, count):
    """The first case's order has its case, so the filing form's list starts from the first of these."""
    more_orders(world, case, count)


def more_notifications(world, case, count):
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(recipient=world.buyer, case=case, event="message_posted", text=f"Note {n}", created_at=now)
        for n in range(count)
    )


def more_escalated(world, case, count):
    for n in range(count):
        bring_to("escalated", new_case(world, item_title=f"Item {n}"))


def more_policies(world, case, count):
    for n in range(count):
        policy_save(
            policy=Policy(
                slug=f"rule-{n}",
                title=f"Rule {n}",
                kind=Policy.Kind.CONDUCT,
                body="Be kind.",
                is_published=True,
                effective_from=timezone.now() - timedelta(days=1),
            ),
            actor=None,
            reason="Set up for a test",
        )


def more_policy_versions(world, case, count):
    for n in range(count):
        world.policy.body = f"Version {n + 2}."
        policy_save(policy=world.policy, actor=world.admin, reason=f"Edit {n}")


def more_reply_versions(world, case, count):
    for n in range(count):
        world.reply.body = f"Hi {{buyer_name}}, take {n}"
        world.reply._history_user = world.admin
        world.reply.save()


def more_resolved(world, case, count):
    """Resolved cases of as many sellers, so the report's per-seller rows grow too."""
    now = timezone.now().replace(microsecond=0)
    for _ in range(count):
        case_for(
            factories.UserFactory(), at=now, filed_days_ago=5, answered_after_hours=1, outcome="full_refund",
            resolved_after_hours=20, stage="mediation", agent=world.agent,
        )


def reported_cases(response):
    return response.context["data"]["without_agent"]["resolved"]


def messages_and_evidence(world, case, count):
    add_messages_and_evidence(case, count)


def offers(world, case, count):
    add_offers(case, count)


LISTINGS = {
    "my-cases": Listing("buyer", "/cases/", more_cases, html_rows("li", "case-row")),
    "orders": Listing("buyer", "/orders/", more_orders, html_rows("tr", within="tbody")),
    "file-a-case": Listing("buyer", "/cases/new/", more_orders_to_file_on, html_rows("option", within="select")),
    "resolution-center": Listing("seller", "/seller/", more_cases, html_rows("li", "case-row")),
    "notifications": Listing("buyer", "/notifications/", more_notifications, html_rows("li", "notification")),
    "case-page": Listing("buyer", "/cases/{ref}/", messages_and_evidence, html_rows("li", "message")),
    "console-queue": Listing("agent", "/console/", more_escalated, html_rows("li", "case-row"), "escalated"),
    "console-workspace": Listing(
        "agent", "/console/cases/{ref}/", messages_and_evidence, html_rows("li", "message"), "in_mediation"
    ),
    "reports": Listing("agent", "/console/reports/", more_resolved, reported_cases),
    "policies": Listing("anonymous", "/policies/", more_policies, html_rows("li", "card")),
    "admin-policy-history": Listing(
        "admin", "/admin/policies/policy/{policy}/history/", more_policy_versions, html_rows("tr", within="tbody")
    ),
    "admin-canned-reply-history": Listing(
        "admin", "/admin/disputes/cannedreply/{reply}/history/", more_reply_versions, html_rows("tr", within="tbody")
    ),
    "api-cases": Listing("seller", "/api/v1/cases/", more_cases, json_rows(), token=True),
    "api-orders": Listing("buyer", "/api/v1/orders/", more_orders, json_rows(), token=True),
    "api-case": Listing("buyer", "/api/v1/cases/{ref}/", offers, json_rows("offers"), token=True),
    "api-messages": Listing("buyer", "/api/v1/cases/{ref}/messages/", messages_and_evidence, json_rows(), token=True),
    "api-evidence": Listing("buyer", "/api/v1/cases/{ref}/evidence/", messages_and_evidence, json_rows(), token=True),
    "api-history": Listing("buyer", "/api/v1/cases/{ref}/history/", offers, json_rows(), token=True),
}


def client_for(world, listing):
    people = {"buyer": world.buyer, "seller": world.seller, "agent": world.agent, "admin": world.admin}
    user = people.get(listing.reader)
    client = Client()
    if user is None:
        return client
    if listing.token:
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
    else:
        client.force_login(user)
    return client


def read(client, url):
    """The page once to fill any cache, then again counting the queries."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response, [query["sql"] for query in captured.captured_queries]


def shape(sql: str) -> str:
    """A query without its values, so two reads of the same page compare line by line."""
    return re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", sql)


@pytest.mark.parametrize("name", LISTINGS)
def test_queries_do_not_grow_with_rows(world, name):
    listing = LISTINGS[name]
    case = new_case(world)
    if listing.case_state != "open":
        case = bring_to(listing.case_state, case, agent=world.agent)
    if listing.add in (messages_and_evidence, offers, more_notifications, more_resolved, more_orders_to_file_on):
        listing.add(world, case, 1)  # the case lists hold the first case already
    client = client_for(world, listing)
    url = listing.url.format(ref=case.reference, policy=world.policy.pk, reply=world.reply.pk)

    one, few = read(client, url)
    listing.add(world, case, ROWS - 1)
    many, more = read(client, url)

    assert 1 <= listing.shown(one) < listing.shown(many)  # however many rows a list puts on a page
    if len(few) != len(more):
        diff = difflib.unified_diff(list(map(shape, few)), list(map(shape, more)), "1 row", f"{ROWS} rows", lineterm="")
        pytest.fail(f"{name}: {len(few)} queries with 1 row, {len(more)} with {ROWS}:\n" + "\n".join(diff))
