"""The API and the pages go through the same services: the same steps leave the same history."""

import uuid

import pytest
from django.test import Client

from disputes.models import Case, Offer
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

# (who, action, its parameters): the seller offers, the buyer declines the offer (the case is the
# seller's again), the seller declines the claim, and the buyer asks the platform to step in.
STEPS = [
    ("seller", "make_offer", {"kind": "partial_refund", "amount": "20.00", "note": "Sorry about that"}),
    ("buyer", "decline_offer", {"note": "Not enough"}),
    ("seller", "decline_claim", {"note": "It left here intact"}),
    ("buyer", "escalate", {"note": "Please look at the photos"}),
]


def through_api(case, people):
    for who, name, params in STEPS:
        response = token_client(people[who]).post(
            f"/api/v1/cases/{case.reference}/transitions/", {"name": name, **params}, format="json"
        )
        assert response.status_code == 200, response.json()


def through_pages(case, people):
    for who, name, params in STEPS:
        client = Client()
        client.force_login(people[who])
        response = client.post(f"/cases/{case.reference}/actions/{name}/", {"submission": str(uuid.uuid4()), **params})
        assert response.status_code == 302, response.content.decode()[:500]


def history(case) -> list[tuple]:
    case = Case.objects.get(pk=case.pk)
    rows = case.history.select_related("history_user").order_by("history_date", "history_id")
    offers = Offer.history.filter(case_id=case.pk).select_related("history_user").order_by("history_date", "history_id")
    return [(row.history_user.username, row.history_change_reason, row.state) for row in rows] + [
        (row.history_user.username, row.history_change_reason, row.status) for row in offers
    ]


def test_a_transition_through_the_api_and_through_the_page_leave_the_same_history(policy, buyer, seller):
    people = {"buyer": buyer, "seller": seller}
    by_api = factories.case(order_=factories.order(buyer=buyer, seller=seller))
    by_page = factories.case(order_=factories.order(buyer=buyer, seller=seller))

    through_api(by_api, people)
    through_pages(by_page, people)

    assert history(by_api) == history(by_page)
    assert history(by_api)[:5] == [
        ("buyer", "Case filed by the buyer", "open"),
        ("seller", "Seller offered: Partial refund", "awaiting_buyer"),
        ("buyer", "Buyer declined the offer: Not enough", "open"),
        ("seller", "Seller declined the claim: It left here intact", "awaiting_buyer"),
        ("buyer", "Buyer asked the platform to step in: Please look at the photos", "escalated"),
    ]
    api_case, page_case = Case.objects.get(pk=by_api.pk), Case.objects.get(pk=by_page.pk)
    assert api_case.state == page_case.state == "escalated"


def test_api_history_endpoint_matches_what_the_page_shows(policy, buyer, seller):
    """The history endpoint reads the same rows: every change, who made it and why."""
    case = factories.case(order_=factories.order(buyer=buyer, seller=seller))
    through_pages(case, {"buyer": buyer, "seller": seller})

    rows = token_client(buyer).get(f"/api/v1/cases/{case.reference}/history/").json()

    assert [(row["side"], row["reason"], row["state"]) for row in rows] == [
        ("buyer", "Case filed by the buyer", "open"),
        ("seller", "Seller offered: Partial refund", "awaiting_buyer"),
        ("buyer", "Buyer declined the offer: Not enough", "open"),
        ("seller", "Seller declined the claim: It left here intact", "awaiting_buyer"),
        ("buyer", "Buyer asked the platform to step in: Please look at the photos", "escalated"),
    ]
