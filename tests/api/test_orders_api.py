"""Orders in from the marketplace: upsert by external id, shipment updates, lists with filters."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from disputes.models import Order
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def order_body(**changes) -> dict:
    body = {
        "buyer": "buyer",
        "seller": "seller",
        "item_title": "Oak bookshelf",
        "quantity": 2,
        "amount": "120.50",
        "currency": "EUR",
        "status": "paid",
        "placed_at": (timezone.now() - timedelta(days=3)).isoformat(),
    }
    body.update(changes)
    return body


@pytest.fixture
def marketplace(service):
    return token_client(service)


def test_order_put_creates_the_order_with_its_history(marketplace, service, buyer, seller):
    response = marketplace.put("/api/v1/orders/MP-77/", order_body(), format="json")

    assert response.status_code == 201
    order = Order.objects.get(external_id="MP-77")
    assert (order.buyer, order.seller, order.amount, order.quantity) == (buyer, seller, Decimal("120.50"), 2)
    assert response.json()["url"].endswith("/api/v1/orders/MP-77/")
    record = order.history.get()
    assert (record.history_user, record.history_change_reason) == (service, "Order received from the marketplace")


def test_order_put_again_replaces_the_order(marketplace, buyer, seller):
    marketplace.put("/api/v1/orders/MP-77/", order_body(), format="json")

    response = marketplace.put(
        "/api/v1/orders/MP-77/", order_body(status="cancelled", item_title="Oak bookshelf (cancelled)"), format="json"
    )

    assert response.status_code == 200
    order = Order.objects.get(external_id="MP-77")
    assert (order.status, order.item_title) == ("cancelled", "Oak bookshelf (cancelled)")
    assert Order.objects.count() == 1
    assert order.history.count() == 2


def test_order_put_cannot_change_the_buyer_or_the_seller(marketplace, buyer, seller, other_buyer):
    marketplace.put("/api/v1/orders/MP-77/", order_body(), format="json")

    response = marketplace.put("/api/v1/orders/MP-77/", order_body(buyer="other_buyer"), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"buyer": ["The buyer of an order does not change."]}
    assert Order.objects.get(external_id="MP-77").buyer.username == "buyer"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"buyer": "nobody"}, "buyer"),
        ({"amount": "0.00"}, "amount"),
        ({"currency": "XXX"}, "currency"),
        ({"quantity": 0}, "quantity"),
        ({"placed_at": "yesterday"}, "placed_at"),
        ({"item_title": ""}, "item_title"),
    ],
)
def test_order_put_with_a_bad_field_is_400_naming_it(marketplace, buyer, seller, changes, field):
    response = marketplace.put("/api/v1/orders/MP-77/", order_body(**changes), format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Order.objects.exists()


def test_order_put_with_the_buyer_as_seller_is_400(marketplace, buyer, seller):
    response = marketplace.put("/api/v1/orders/MP-77/", order_body(seller="buyer"), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Order.objects.exists()


def test_order_put_with_times_out_of_order_is_400(marketplace, buyer, seller):
    placed = timezone.now() - timedelta(days=3)
    body = order_body(placed_at=placed.isoformat(), shipped_at=(placed - timedelta(days=1)).isoformat())

    response = marketplace.put("/api/v1/orders/MP-77/", body, format="json")

    assert response.status_code == 400
    assert "shipped_at" in response.json()["errors"]


def test_order_put_with_a_too_long_id_is_400(marketplace, buyer, seller):
    response = marketplace.put(f"/api/v1/orders/{'X' * 65}/", order_body(), format="json")

    assert response.status_code == 400
    assert "external_id" in response.json()["errors"]


def test_shipment_update_records_carrier_and_times_and_moves_the_status(marketplace, service, buyer, seller):
    order = factories.order(buyer=buyer, seller=seller, external_id="MP-9", delivered_days_ago=None, carrier="")
    factories.order(buyer=buyer, seller=seller, external_id="MP-10")
    delivered = timezone.now().replace(microsecond=0)

    response = marketplace.post(
        "/api/v1/orders/MP-9/shipment/",
        {"carrier": "UPS", "tracking_number": "1Z999", "delivered_at": delivered.isoformat()},
        format="json",
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.carrier, order.tracking_number, order.delivered_at, order.status) == (
        "UPS",
        "1Z999",
        delivered,
        "delivered",
    )
    assert order.history.latest().history_change_reason == "Shipment update from the marketplace"
    assert order.history.latest().history_user == service


def test_shipment_update_needs_something_to_say(marketplace, order):
    response = marketplace.post(f"/api/v1/orders/{order.external_id}/shipment/", {}, format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()["errors"]


def test_shipment_update_on_a_cancelled_order_is_400(marketplace, buyer, seller):
    factories.order(buyer=buyer, seller=seller, external_id="MP-9", status=Order.Status.CANCELLED)

    response = marketplace.post("/api/v1/orders/MP-9/shipment/", {"carrier": "UPS"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"status": ["The order is cancelled."]}


def test_shipment_update_of_an_unknown_order_is_404(marketplace):
    response = marketplace.post("/api/v1/orders/NOPE/shipment/", {"carrier": "UPS"}, format="json")

    assert response.status_code == 404


def test_order_list_filters_by_status_parties_and_update_time(marketplace, buyer, seller, other_buyer, other_seller):
    factories.order(buyer=buyer, seller=seller, external_id="A", delivered_days_ago=None)
    factories.order(buyer=buyer, seller=other_seller, external_id="B")
    factories.order(buyer=other_buyer, seller=seller, external_id="C")
    Order.objects.filter(external_id="A").update(updated_at=timezone.now() - timedelta(days=5))

    def ids(query: str) -> set[str]:
        response = marketplace.get(f"/api/v1/orders/?{query}")
        assert response.status_code == 200, response.json()
        return {row["external_id"] for row in response.json()["results"]}

    assert ids("") == {"A", "B", "C"}
    assert ids("status=shipped") == {"A"}
    assert ids("buyer=BUYER") == {"A", "B"}
    assert ids("seller=seller") == {"A", "C"}
    assert ids(f"updated_since={(timezone.now() - timedelta(days=1)).isoformat().replace('+', '%2B')}") == {"B", "C"}


def test_order_list_with_a_bad_filter_is_400(marketplace):
    response = marketplace.get("/api/v1/orders/?status=lost")

    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_order_list_pages_by_cursor(marketplace, buyer, seller):
    for number in range(5):
        factories.order(buyer=buyer, seller=seller, external_id=f"P{number}")

    first = marketplace.get("/api/v1/orders/?page_size=2").json()
    second = marketplace.get(first["next"]).json()
    third = marketplace.get(second["next"]).json()

    pages = [[row["external_id"] for row in page["results"]] for page in (first, second, third)]
    assert pages == [["P4", "P3"], ["P2", "P1"], ["P0"]]
    assert third["next"] is None


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=f"needs concurrent writers on PostgreSQL; the database is {connection.vendor}",
)
@pytest.mark.django_db(transaction=True)
def test_two_pushes_of_a_new_order_at_once_make_one_order(service, buyer, seller):
    clients = [token_client(service) for _ in range(3)]
    barrier = threading.Barrier(len(clients), timeout=30)
    statuses = []

    def push(client):
        try:
            barrier.wait()
            statuses.append(client.put("/api/v1/orders/MP-RACE/", order_body(), format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=push, args=(client,), daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(statuses) == [200, 200, 201]
    assert Order.objects.filter(external_id="MP-RACE").count() == 1
