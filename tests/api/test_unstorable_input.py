"""PostgreSQL text holds no NUL character: such input is invalid (400), never a server error."""

import pytest

from disputes.models import Case, Order
from tests.api.conftest import token_client


def test_order_put_with_a_nul_character_in_the_body_is_refused_and_stores_nothing(service, buyer, seller):
    response = token_client(service).put(
        "/api/v1/orders/ORD-NUL/",
        {
            "buyer": "buy\u0000er",
            "seller": seller.username,
            "item_title": "Lamp",
            "amount": "10.00",
            "currency": "EUR",
            "placed_at": "2026-11-01T10:00:00Z",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    assert not Order.objects.filter(external_id="ORD-NUL").exists()


def test_case_file_with_a_nul_character_in_the_description_is_refused(order, buyer):
    response = token_client(buyer).post(
        "/api/v1/cases/",
        {
            "order": order.external_id,
            "reason": "damaged",
            "requested_outcome": "partial_refund",
            "amount_claimed": "10.00",
            "description": "cracked\u0000",
        },
        format="json",
    )

    assert response.status_code == 400
    assert not Case.objects.exists()


@pytest.mark.parametrize("parameter", ["seller", "buyer", "reason"])
def test_case_list_with_a_nul_character_in_a_filter_is_not_a_server_error(service, parameter):
    response = token_client(service).get("/api/v1/cases/", {parameter: "x\u0000y"})

    assert response.status_code in (200, 400)
