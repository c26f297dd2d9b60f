"""What is done on a case through the API: transitions and their refusals, returns, proposals,
messages, evidence and history."""

from decimal import Decimal

import pytest

from disputes import services
from disputes.models import Evidence, Message, Offer, RefundInstruction
from tests.api.conftest import png, token_client
from tests.api.helpers import reload, url
from tests.disputes.case_states import bring_to

pytestmark = pytest.mark.django_db


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
