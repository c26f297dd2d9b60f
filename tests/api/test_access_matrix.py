"""Every endpoint for every role: who gets an answer, who is refused, and how.

`world` holds one open case between `buyer` and `seller` (with a photo from the buyer), another
order of the buyer's with no case (ORD-SPARE) and an order between the other two people. Every
role calls with its own token. A refused call must leave every record as it was.
"""

import pytest
from django.utils import timezone

from disputes.models import Case, Evidence, IdempotencyKey, Message, Order
from tests.api.conftest import ROLES, png

MATRIX = """
endpoint             anonymous  buyer  other_buyer  seller  other_seller  agent  service
orders.list          401        200    200          200     200           200    200
orders.get           401        200    404          200     404           200    200
orders.put           401        403    403          403     403           403    200
orders.shipment      401        403    403          403     403           403    200
cases.list           401        200    200          200     200           200    200
cases.file           401        201    400          400     400           400    403
case.get             401        200    404          200     404           200    200
case.transition      401        403    404          200     404           403    403
case.return          401        409    404          403     404           403    403
case.proposal        401        409    404          409     404           409    403
case.history         401        200    404          200     404           200    200
case.messages.list   401        200    404          200     404           200    200
case.messages.post   401        201    404          201     404           201    403
case.evidence.list   401        200    404          200     404           200    200
case.evidence.post   401        201    404          201     404           201    403
case.evidence.file   401        200    404          200     404           200    200
schema               200        200    200          200     200           200    200
docs                 200        200    200          200     200           200    200
"""


def _table():
    header, *rows = [line.split() for line in MATRIX.strip().splitlines()]
    assert header[1:] == ROLES
    return [(row[0], role, int(status)) for row in rows for role, status in zip(ROLES, row[1:], strict=True)]


ORDER_BODY = {
    "buyer": "buyer",
    "seller": "seller",
    "item_title": "Walnut desk lamp, second one",
    "amount": "45.00",
    "currency": "EUR",
    "status": "paid",
    "placed_at": "2026-01-05T10:00:00Z",
}


def call(client, endpoint: str, world):
    """Send `endpoint`'s request with `client`; returns the response."""
    case = f"/api/v1/cases/{world.case.reference}"
    requests = {
        "orders.list": lambda: client.get("/api/v1/orders/"),
        "orders.get": lambda: client.get(f"/api/v1/orders/{world.order.external_id}/"),
        "orders.put": lambda: client.put("/api/v1/orders/ORD-SPARE/", ORDER_BODY, format="json"),
        "orders.shipment": lambda: client.post(
            "/api/v1/orders/ORD-SPARE/shipment/",
            {"carrier": "UPS", "tracking_number": "1Z999", "shipped_at": timezone.now().isoformat()},
            format="json",
        ),
        "cases.list": lambda: client.get("/api/v1/cases/"),
        "cases.file": lambda: client.post(
            "/api/v1/cases/",
            {
                "order": "ORD-SPARE",
                "reason": "damaged",
                "requested_outcome": "partial_refund",
                "amount_claimed": "10.00",
                "description": "It arrived broken.",
            },
            format="json",
        ),
        "case.get": lambda: client.get(f"{case}/"),
        "case.transition": lambda: client.post(
            f"{case}/transitions/", {"name": "decline_claim", "note": "It left here intact."}, format="json"
        ),
        "case.return": lambda: client.post(
            f"{case}/return-shipment/", {"carrier": "DHL", "tracking_number": "JD1"}, format="json"
        ),
        "case.proposal": lambda: client.post(f"{case}/proposal-answer/", {"answer": "accept"}, format="json"),
        "case.history": lambda: client.get(f"{case}/history/"),
        "case.messages.list": lambda: client.get(f"{case}/messages/"),
        "case.messages.post": lambda: client.post(f"{case}/messages/", {"body": "Any news?"}, format="json"),
        "case.evidence.list": lambda: client.get(f"{case}/evidence/"),
        "case.evidence.post": lambda: client.post(
            f"{case}/evidence/", {"files": [png("box.png")], "description": "The box"}, format="multipart"
        ),
        "case.evidence.file": lambda: client.get(f"{case}/evidence/{world.evidence.pk}/file/"),
        "schema": lambda: client.get("/api/schema/"),
        "docs": lambda: client.get("/api/docs/"),
    }
    return requests[endpoint]()


def footprint(world) -> dict:
    case = Case.objects.get(pk=world.case.pk)
    spare = Order.objects.get(pk=world.spare_order.pk)
    return {
        "state": case.state,
        "case_history": case.history.count(),
        "cases": Case.objects.count(),
        "messages": Message.objects.count(),
        "evidence": Evidence.objects.count(),
        "spare_order": (spare.item_title, spare.carrier, spare.tracking_number, spare.history.count()),
        "idempotency_keys": IdempotencyKey.objects.count(),
    }


CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found", 400: "invalid"}


@pytest.mark.parametrize(("endpoint", "role", "expected"), _table())
def test_api_access_matrix(endpoint, role, expected, world, api_as):
    before = footprint(world)

    response = call(api_as(role), endpoint, world)

    assert response.status_code == expected, (endpoint, role, getattr(response, "data", response))
    if expected >= 400:
        assert footprint(world) == before, "a refused request changed something"
        body = response.json()
        assert body["detail"]
        if expected in CODES:
            assert body["code"] == CODES[expected]
        if expected == 401:
            assert response["WWW-Authenticate"] == "Token"
        if expected == 409:
            assert body["code"] == "transition_refused"
            assert body["state"] == "open"
            assert isinstance(body["allowed_actions"], list)


@pytest.mark.parametrize(
    ("role", "orders", "cases"),
    [
        ("buyer", {"ORD-SPARE", "case order"}, 1),
        ("other_buyer", {"ORD-OTHERS"}, 0),
        ("seller", {"ORD-SPARE", "case order"}, 1),
        ("other_seller", {"ORD-OTHERS"}, 0),
        ("agent", {"ORD-SPARE", "ORD-OTHERS", "case order"}, 1),
        ("service", {"ORD-SPARE", "ORD-OTHERS", "case order"}, 1),
    ],
)
def test_lists_show_each_role_only_its_scope(role, orders, cases, world, api_as):
    client = api_as(role)
    expected_orders = {world.order.external_id if name == "case order" else name for name in orders}

    order_ids = {row["external_id"] for row in client.get("/api/v1/orders/").json()["results"]}
    case_rows = client.get("/api/v1/cases/").json()["results"]

    assert order_ids == expected_orders
    assert [row["reference"] for row in case_rows] == [world.case.reference] * cases


def test_allowed_writes_do_what_they_say(world, api_as, buyer, seller):
    """The allowed cells of the matrix, checked for their effect rather than their status."""
    assert call(api_as("service"), "orders.put", world).json()["item_title"] == ORDER_BODY["item_title"]
    assert Order.objects.get(external_id="ORD-SPARE").item_title == ORDER_BODY["item_title"]

    shipped = call(api_as("service"), "orders.shipment", world).json()
    assert (shipped["carrier"], shipped["tracking_number"], shipped["status"]) == ("UPS", "1Z999", "shipped")

    filed = call(api_as("buyer"), "cases.file", world).json()
    assert Case.objects.get(pk=Case.pk_from_reference(filed["reference"])).order.external_id == "ORD-SPARE"

    declined = call(api_as("seller"), "case.transition", world).json()
    assert declined["state"] == "awaiting_buyer"
    assert Case.objects.get(pk=world.case.pk).history.latest().history_user == seller

    call(api_as("buyer"), "case.messages.post", world)
    assert Message.objects.get(case=world.case).author == buyer

    added = call(api_as("seller"), "case.evidence.post", world).json()
    assert [item["original_name"] for item in added] == ["box.png"]
    assert Evidence.objects.get(pk=added[0]["id"]).uploaded_by == seller


def test_evidence_file_is_the_uploaded_bytes(world, api_as):
    response = call(api_as("seller"), "case.evidence.file", world)

    world.evidence.file.open("rb")
    assert b"".join(response.streaming_content) == world.evidence.file.read()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_session_sign_in_works_and_needs_the_csrf_token_for_writes(world, buyer):
    """The pages' own scripts use the session: reads work as is, writes need the CSRF token."""
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(buyer)

    assert client.get(f"/api/v1/cases/{world.case.reference}/").status_code == 200
    refused = client.post(f"/api/v1/cases/{world.case.reference}/messages/", {"body": "Hi"}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Message.objects.exists()


def test_a_bad_token_is_401(world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/v1/cases/")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
