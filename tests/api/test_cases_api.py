"""Cases through the API: filing, lists and their filters, the detail with its actions, transitions
and their refusals, messages, evidence, returns, proposals and history."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disputes import services
from disputes.models import Case, Evidence, Message, Offer, RefundInstruction
from tests import factories
from tests.api.conftest import png, token_client
from tests.disputes.case_states import bring_to

pytestmark = pytest.mark.django_db


def url(case: Case, tail: str = "") -> str:
    return f"/api/v1/cases/{case.reference}/{tail}"


def reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


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


# Transitions


def test_transition_by_the_seller_makes_the_offer(open_case, seller):
    response = token_client(seller).post(
        url(open_case, "transitions/"),
        {"name": "make_offer", "kind": "partial_refund", "amount": "20.00", "note": "Sorry about the shade."},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["state"] == "awaiting_buyer"
    offer = Offer.objects.get(case=open_case)
    assert (offer.kind, offer.amount, offer.note, offer.made_by) == (
        "partial_refund",
        Decimal("20.00"),
        "Sorry about the shade.",
        seller,
    )


def test_transition_the_case_does_not_allow_now_is_409_naming_state_and_actions(open_case, buyer):
    response = token_client(buyer).post(url(open_case, "transitions/"), {"name": "accept_offer"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This case is waiting for the seller; that is not possible now.",
        "code": "transition_refused",
        "state": "open",
        "action": "accept_offer",
        "allowed_actions": ["withdraw"],
    }
    assert reload(open_case).history.count() == 1


def test_transition_whose_condition_does_not_hold_yet_is_409(open_case, buyer):
    response = token_client(buyer).post(url(open_case, "transitions/"), {"name": "escalate"}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("You can ask us to step in once the seller has had time")
    assert reload(open_case).state == "open"


def test_transition_by_the_wrong_party_is_403(open_case, buyer):
    response = token_client(buyer).post(url(open_case, "transitions/"), {"name": "decline_claim"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert reload(open_case).state == "open"


def test_transition_the_system_fires_is_refused_to_people(open_case, seller):
    response = token_client(seller).post(url(open_case, "transitions/"), {"name": "escalate_unanswered"}, format="json")

    assert response.status_code == 409  # the seller still has time: the state's condition comes first
    assert reload(open_case).state == "open"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "make_offer"}, "kind"),
        ({"name": "make_offer", "kind": "partial_refund", "amount": "500.00"}, "amount"),
        ({"name": "make_offer", "kind": "return_and_refund", "amount": "10.00"}, "return_address"),
        ({"name": "make_offer", "kind": "bribe"}, "kind"),
        ({"name": "fly_away"}, "name"),
        ({}, "name"),
    ],
)
def test_transition_with_bad_input_is_400_naming_the_field(open_case, seller, body, field):
    response = token_client(seller).post(url(open_case, "transitions/"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert reload(open_case).state == "open"
    assert not Offer.objects.exists()


def test_decision_without_an_outcome_is_400_on_outcome(open_case, agent):
    case = bring_to("in_mediation", open_case, agent=agent)

    response = token_client(agent).post(url(case, "transitions/"), {"name": "decide", "rationale": "x"}, format="json")

    assert response.status_code == 400
    assert "outcome" in response.json()["errors"]


def test_agent_claims_and_decides_through_the_api(open_case, agent):
    case = bring_to("escalated", open_case, agent=agent)
    client = token_client(agent)

    claimed = client.post(url(case, "transitions/"), {"name": "claim"}, format="json")
    decided = client.post(
        url(case, "transitions/"),
        {"name": "decide", "outcome": "full_refund", "rationale": "The photos show the damage."},
        format="json",
    )

    assert claimed.status_code == 200 and claimed.json()["state"] == "in_mediation"
    assert decided.status_code == 200
    assert (decided.json()["state"], decided.json()["outcome"]) == ("resolved", "full_refund")
    assert RefundInstruction.objects.get(case=case).amount == Decimal("80.00")


def test_appeal_needs_grounds(open_case):
    case = bring_to("resolved", open_case)

    response = token_client(case.buyer).post(url(case, "transitions/"), {"name": "appeal"}, format="json")
    appealed = token_client(case.buyer).post(
        url(case, "transitions/"), {"name": "appeal", "grounds": "The shade is beyond repair."}, format="json"
    )

    assert response.status_code == 400
    assert "grounds" in response.json()["errors"]
    assert appealed.status_code == 200 and appealed.json()["state"] == "appealed"


# Returns and proposals


def test_return_shipment_by_the_buyer(open_case):
    case = bring_to("awaiting_return", open_case)

    response = token_client(case.buyer).post(
        url(case, "return-shipment/"), {"carrier": "DHL", "tracking_number": "JD42"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["return_shipment"]["tracking_number"] == "JD42"
    assert reload(case).return_carrier == "DHL"


def test_proposal_answers_from_both_parties_settle_the_case(open_case, agent):
    case = bring_to("in_mediation", open_case, agent=agent)
    services.proposal_make(case=case, agent=agent, kind="partial_refund", amount=Decimal("10.00"), note="Half way")

    by_buyer = token_client(case.buyer).post(url(case, "proposal-answer/"), {"answer": "accept"}, format="json")
    by_seller = token_client(case.seller).post(url(case, "proposal-answer/"), {"answer": "accept"}, format="json")
    again = token_client(case.seller).post(url(case, "proposal-answer/"), {"answer": "reject"}, format="json")

    assert by_buyer.status_code == 200 and by_buyer.json()["state"] == "in_mediation"
    assert by_buyer.json()["offers"][-1]["buyer_answer"] == "accepted"
    assert by_seller.status_code == 200 and by_seller.json()["state"] == "resolved"
    assert again.status_code == 409


# Messages


def test_messages_hide_internal_notes_from_the_parties(open_case, buyer, seller, agent):
    token_client(buyer).post(url(open_case, "messages/"), {"body": "Hello?"}, format="json")
    note = token_client(agent).post(
        url(open_case, "messages/"), {"body": "Buyer seems honest", "internal": True}, format="json"
    )
    token_client(seller).post(url(open_case, "messages/"), {"body": "Looking into it"}, format="json")

    def bodies(user, query=""):
        return [m["body"] for m in token_client(user).get(url(open_case, f"messages/{query}")).json()]

    assert note.status_code == 201 and note.json()["internal"] is True
    assert bodies(buyer) == ["Hello?", "Looking into it"]
    assert bodies(seller) == ["Hello?", "Looking into it"]
    assert bodies(agent) == ["Hello?", "Buyer seems honest", "Looking into it"]
    first_id = Message.objects.order_by("pk").first().pk
    assert bodies(buyer, f"?after={first_id}") == ["Looking into it"]
    listed = token_client(buyer).get(url(open_case, "messages/")).json()
    assert [(m["side"], m["author"]) for m in listed] == [("buyer", "buyer"), ("seller", "seller")]


def test_a_party_cannot_write_an_internal_note(open_case, buyer):
    response = token_client(buyer).post(url(open_case, "messages/"), {"body": "psst", "internal": True}, format="json")

    assert response.status_code == 403
    assert not Message.objects.exists()


def test_an_empty_message_is_400(open_case, buyer):
    response = token_client(buyer).post(url(open_case, "messages/"), {"body": "   "}, format="json")

    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_a_finished_case_takes_no_messages(open_case, buyer):
    case = bring_to("withdrawn", open_case)

    response = token_client(buyer).post(url(case, "messages/"), {"body": "One more thing"}, format="json")

    assert response.status_code == 409
    assert response.json()["state"] == "withdrawn"


# Evidence


def test_evidence_upload_stores_checked_files(open_case, seller):
    response = token_client(seller).post(
        url(open_case, "evidence/"),
        {"files": [png("a.png"), png("b.png")], "description": "Packing"},
        format="multipart",
    )

    assert response.status_code == 201
    assert [item["original_name"] for item in response.json()] == ["a.png", "b.png"]
    assert Evidence.objects.filter(case=open_case, uploaded_by=seller, content_type="image/png").count() == 2
    listed = token_client(open_case.buyer).get(url(open_case, "evidence/")).json()
    assert [(item["side"], item["description"]) for item in listed] == [("seller", "Packing"), ("seller", "Packing")]


def test_evidence_that_is_not_an_image_or_pdf_adds_nothing(open_case, buyer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("shade.png", b"#!/bin/sh\necho hi\n", content_type="image/png")

    response = token_client(buyer).post(
        url(open_case, "evidence/"), {"files": [png("ok.png"), fake]}, format="multipart"
    )

    assert response.status_code == 400
    assert "files" in response.json()["errors"]
    assert not Evidence.objects.exists()


# History


def test_history_says_who_when_why_and_the_state(open_case, seller):
    token_client(seller).post(
        url(open_case, "transitions/"), {"name": "decline_claim", "note": "Left here intact"}, format="json"
    )

    history = token_client(open_case.buyer).get(url(open_case, "history/")).json()

    assert [(row["side"], row["reason"], row["state"]) for row in history] == [
        ("buyer", "Case filed by the buyer", "open"),
        ("seller", "Seller declined the claim: Left here intact", "awaiting_buyer"),
    ]
    assert all(row["at"] for row in history)
