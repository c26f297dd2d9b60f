"""Pages: the seller sees only their own performance; feedback forms refuse with clear messages."""

import pytest

from feedback.models import TradeFeedback

pytestmark = pytest.mark.django_db


def test_resolution_center_shows_the_sellers_own_figures(client, open_case, seller, other_seller):
    client.force_login(seller)
    text = client.get("/seller/").content.decode()
    assert "Your standing" in text and "1 case on 1 order" in text
    client.force_login(other_seller)
    text = client.get("/seller/").content.decode()
    assert "1 case on 1 order" not in text and "No orders in the window" in text


def test_agent_workspace_shows_scores_and_performance(client, open_case, agent):
    client.force_login(agent)
    text = client.get(f"/console/cases/{open_case.reference}/").content.decode()
    assert "Seller performance" in text and "No trade feedback yet" in text


def test_order_feedback_page_records_once_and_refuses_a_second_answer(client, order, buyer):
    client.force_login(buyer)
    url = f"/orders/{order.external_id}/feedback/"
    page = client.get(url)
    assert "Leave feedback" in page.content.decode()
    form = page.context["form"]
    client.post(url, {"rating": "positive", "comment": "Fine", "submission": form["submission"].initial})
    assert TradeFeedback.objects.get().rating == "positive"
    # After the edit window a new POST is a second answer.
    TradeFeedback.objects.update(editable_until="2000-01-01T00:00:00Z")
    response = client.post(url, {"rating": "negative", "submission": "6f1c8a3e-1111-4c1c-9c1c-000000000001"})
    assert response.status_code == 400 and "already left feedback" in response.content.decode()


def test_order_feedback_page_refuses_an_unknown_rating(client, order, buyer):
    client.force_login(buyer)
    response = client.post(
        f"/orders/{order.external_id}/feedback/",
        {"rating": "superb", "submission": "6f1c8a3e-1111-4c1c-9c1c-000000000002"},
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not TradeFeedback.objects.exists()


def test_order_feedback_page_is_not_found_for_a_non_party(client, order, other_buyer):
    client.force_login(other_buyer)
    assert client.get(f"/orders/{order.external_id}/feedback/").status_code == 404
