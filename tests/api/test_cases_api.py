"""Cases through the API: filing, lists and their filters, and the detail with its actions. What
is done on a case (transitions, messages, evidence, history) is in test_case_actions_api.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disputes import services
from disputes.models import Case
from tests import factories
from tests.api.conftest import token_client
from tests.api.helpers import reload, url
from tests.disputes.case_states import bring_to

pytestmark = pytest.mark.django_db


# Filing


def file_body(order, **changes) -> dict:
    body = {
        "order": order.external_id,
        "reason": "damaged",
        "requested_outcome": "partial_refund",
        "amount_claimed": "25.00",
        "description": "The shade is cracked.",
    }
    body.update(changes)
    return body


def test_filing_opens_the_case_as_the_buyer_with_its_history(order, buyer):
    response = token_client(buyer).post("/api/v1/cases/", file_body(order), format="json")

    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get(pk=Case.pk_from_reference(body["reference"]))
    assert response["Location"] == body["url"]
    assert (case.state, case.buyer, case.amount_claimed) == ("open", buyer, Decimal("25.00"))
    assert body["state"] == "open"
    assert body["deadline"]["name"] == "seller_answer_due_at"
    assert [action["name"] for action in body["actions"]] == ["withdraw"]
    row = case.history.get()
    assert (row.history_user, row.history_change_reason) == (buyer, "Case filed by the buyer")


def test_filing_more_than_the_order_is_400_on_the_amount(order, buyer):
    response = token_client(buyer).post("/api/v1/cases/", file_body(order, amount_claimed="500.00"), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"amount_claimed": ["You can claim at most the order amount, 80.00 EUR."]}
    assert not Case.objects.exists()


def test_filing_a_second_case_on_an_order_is_400_on_the_order(open_case, order, buyer):
    response = token_client(buyer).post("/api/v1/cases/", file_body(order), format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["order"] == [f"This order already has an open case, {open_case.reference}."]
    assert Case.objects.count() == 1


def test_filing_after_the_window_is_400_on_the_order(policy, buyer, seller):
    old = factories.order(buyer=buyer, seller=seller, delivered_days_ago=90)

    response = token_client(buyer).post("/api/v1/cases/", file_body(old), format="json")

    assert response.status_code == 400
    assert "order" in response.json()["errors"]


def test_filing_on_a_cancelled_order_takes_only_a_billing_problem(policy, buyer, seller):
    cancelled = factories.order(
        buyer=buyer, seller=seller, status="cancelled", shipped_at=None, delivered_days_ago=None
    )
    client = token_client(buyer)

    refused = client.post("/api/v1/cases/", file_body(cancelled), format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"reason": ["A cancelled order can only have a billing problem."]}
    assert not Case.objects.exists()

    response = client.post("/api/v1/cases/", file_body(cancelled, reason="billing"), format="json")

    assert response.status_code == 201
    assert Case.objects.get().reason == "billing"


def test_filing_with_missing_fields_names_each(order, buyer):
    response = token_client(buyer).post("/api/v1/cases/", {"order": order.external_id}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"reason", "requested_outcome", "amount_claimed", "description"}


# Lists


@pytest.fixture
def several_cases(policy, buyer, seller, other_buyer, other_seller, agent):
    """Cases in different states between different people, oldest first."""
    first = factories.case(order_=factories.order(buyer=buyer, seller=seller), reason="damaged")
    second = factories.case(order_=factories.order(buyer=buyer, seller=other_seller), reason="not_received")
    third = factories.case(order_=factories.order(buyer=other_buyer, seller=seller), reason="damaged")
    bring_to("escalated", second, agent=agent)
    return first, reload(second), third


def refs(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["reference"] for row in response.json()["results"]]


def test_case_list_filters(several_cases, service):
    first, second, third = several_cases
    client = token_client(service)
    Case.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+", "%2B")

    assert refs(client.get("/api/v1/cases/")) == [third.reference, second.reference, first.reference]
    assert refs(client.get("/api/v1/cases/?state=escalated")) == [second.reference]
    assert refs(client.get("/api/v1/cases/?state=escalated&state=open")) == [
        third.reference,
        second.reference,
        first.reference,
    ]
    assert refs(client.get("/api/v1/cases/?reason=damaged")) == [third.reference, first.reference]
    assert refs(client.get("/api/v1/cases/?buyer=other_buyer")) == [third.reference]
    assert refs(client.get("/api/v1/cases/?seller=SELLER")) == [third.reference, first.reference]
    assert refs(client.get(f"/api/v1/cases/?order={second.order.external_id}")) == [second.reference]
    assert refs(client.get(f"/api/v1/cases/?updated_since={since}")) == [third.reference, second.reference]


def test_case_list_overdue_means_past_the_deadline_of_the_current_step(several_cases, service):
    first, second, third = several_cases
    client = token_client(service)

    later = timezone.now() + timedelta(hours=60)  # past the agents' 48 h, not the seller's 72 h
    import time_machine

    with time_machine.travel(later, tick=False):
        overdue = client.get("/api/v1/cases/?overdue=true")
        on_time = client.get("/api/v1/cases/?overdue=false")

    assert refs(overdue) == [second.reference]
    assert overdue.json()["results"][0]["overdue"] is True
    assert overdue.json()["results"][0]["deadline"]["name"] == "agent_decision_due_at"
    assert refs(on_time) == [third.reference, first.reference]


def test_case_list_with_a_bad_filter_is_400(service):
    response = token_client(service).get("/api/v1/cases/?state=lost&updated_since=soon")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"state", "updated_since"}


def test_case_list_pages_by_cursor(policy, buyer, seller):
    cases = [factories.case(order_=factories.order(buyer=buyer, seller=seller)) for _ in range(5)]
    client = token_client(buyer)

    first = client.get("/api/v1/cases/?page_size=2").json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    seen = [row["reference"] for page in (first, second, third) for row in page["results"]]
    assert seen == [case.reference for case in reversed(cases)]
    assert third["next"] is None
    assert client.get("/api/v1/cases/?cursor=not-a-cursor").status_code == 404


def _queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/cases/?page_size=50").status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["buyer", "agent", "service"])
def test_case_list_queries_do_not_grow_with_the_rows(
    role, policy, buyer, seller, agent, service, django_assert_max_num_queries
):
    user = {"buyer": buyer, "agent": agent, "service": service}[role]
    client = token_client(user)
    factories.case(order_=factories.order(buyer=buyer, seller=seller))
    few = _queries_for_list(client)
    for _ in range(12):
        factories.case(order_=factories.order(buyer=buyer, seller=factories.UserFactory()))

    with django_assert_max_num_queries(few):
        response = client.get("/api/v1/cases/?page_size=50")

    assert len(response.json()["results"]) == 13


# The detail


def test_detail_shows_deadlines_offers_and_the_users_actions(open_case, buyer, seller, agent, service):
    services.offer_make(case=open_case, seller=seller, kind="partial_refund", amount=Decimal("20.00"), note="Sorry")

    def detail(user):
        response = token_client(user).get(url(open_case))
        assert response.status_code == 200
        return response.json()

    as_buyer, as_seller = detail(buyer), detail(seller)
    assert as_buyer["state"] == "awaiting_buyer"
    assert as_buyer["deadlines"]["buyer_answer_due_at"]
    assert [(o["made_by_role"], o["kind"], o["amount"], o["status"]) for o in as_buyer["offers"]] == [
        ("seller", "partial_refund", "20.00", "pending")
    ]
    # What each may do now comes from the state machine: the offer is the buyer's to answer.
    assert {a["name"] for a in as_buyer["actions"]} == {"accept_offer", "decline_offer", "withdraw"}
    assert {a["name"] for a in as_seller["actions"]} == {"make_offer", "accept_claim"}
    assert detail(agent)["actions"] == []
    assert detail(service)["actions"] == []


def test_detail_after_a_decision_shows_it_and_the_refund(open_case, agent):
    case = bring_to("in_mediation", open_case, agent=agent)
    services.case_decide(case=case, agent=agent, outcome="partial_refund", amount=Decimal("15.00"), rationale="Fair.")

    body = token_client(case.buyer).get(url(case)).json()

    assert body["state"] == "resolved"
    assert (body["outcome"], body["refund_amount"]) == ("partial_refund", "15.00")
    assert [(d["stage"], d["outcome"], d["amount"]) for d in body["decisions"]] == [
        ("mediation", "partial_refund", "15.00")
    ]
    assert [(r["amount"], r["idempotency_key"]) for r in body["refunds"]] == [("15.00", f"{case.reference}-resolution")]
    assert {a["name"] for a in body["actions"]} == {"appeal"}
