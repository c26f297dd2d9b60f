"""Outbound webhooks, received by a real HTTP server on 127.0.0.1 (stdlib, in a thread).

The receiver checks the signature as a marketplace would: HMAC-SHA256 over the raw body with
the endpoint's secret. Deliveries are attempted after commit, retried by `process_deadlines`
with backoff while they fail, and never sent again once one succeeded.
"""

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from disputes import services
from disputes.api.webhooks import signature_is_valid
from disputes.models import WebhookDelivery, WebhookEndpoint
from disputes.services.deadlines import process_deadlines
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

SECRET = "whsec-test-0123456789"
ALL_EVENTS = [event.value for event in WebhookEndpoint.Event]


class Receiver:
    """Records every POST (headers and raw body) and answers with the next status in `answers`
    (200 once they run out)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"thanks")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/desk"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def payloads(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, events=ALL_EVENTS)


def verify(request: dict, secret: str = SECRET) -> bool:
    """What the marketplace does with each request: recompute the HMAC over the raw body."""
    header = request["headers"]["X-Desk-Signature"]
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(header, expected)


def test_a_filed_case_is_posted_signed_and_the_receiver_can_verify_it(
    endpoint, receiver, policy, buyer, seller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = factories.case(order_=factories.order(buyer=buyer, seller=seller))

    [request] = receiver.requests
    assert verify(request)
    assert not verify(request, secret="someone-elses-secret")
    assert signature_is_valid(SECRET, request["body"], request["headers"]["X-Desk-Signature"])
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Desk-Event"] == "case.filed"
    payload = json.loads(request["body"])
    assert payload["type"] == "case.filed"
    assert payload["data"]["reference"] == case.reference
    assert payload["data"]["order"] == case.order.external_id
    assert payload["data"]["state"] == "open"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)
    assert request["headers"]["X-Desk-Delivery"] == str(delivery.pk)


def test_state_changes_and_a_refund_outcome_are_sent(
    endpoint, receiver, open_case, seller, buyer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.offer_make(case=open_case, seller=seller, kind="partial_refund", amount=Decimal("20.00"))
    with django_capture_on_commit_callbacks(execute=True):
        services.offer_accept(case=open_case, buyer=buyer)

    sent = [(p["type"], p["data"]["from_state"], p["data"]["state"]) for p in receiver.payloads()]
    assert sent == [
        ("case.state_changed", "open", "awaiting_buyer"),
        ("case.state_changed", "awaiting_buyer", "resolved"),
        ("case.resolved_with_refund", "awaiting_buyer", "resolved"),
    ]
    refund = receiver.payloads()[-1]["data"]
    assert (refund["outcome"], refund["refund_amount"], refund["currency"]) == ("partial_refund", "20.00", "EUR")
    assert [(r["idempotency_key"], r["amount"]) for r in refund["refunds"]] == [
        (f"{open_case.reference}-resolution", "20.00")
    ]
    assert all(verify(request) for request in receiver.requests)


def test_an_endpoint_gets_only_the_events_it_wants_and_an_inactive_one_none(
    receiver, policy, buyer, seller, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, events=["case.resolved_with_refund"])
    WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, events=ALL_EVENTS, is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        case = factories.case(order_=factories.order(buyer=buyer, seller=seller))
    with django_capture_on_commit_callbacks(execute=True):
        services.case_decline_claim(case=case, seller=seller)

    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_failed_delivery_backs_off_and_is_retried_until_it_succeeds_then_never_again(
    endpoint, receiver, policy, buyer, seller, settings, time_machine, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    receiver.answers = [500, 503]

    with django_capture_on_commit_callbacks(execute=True):
        factories.case(order_=factories.order(buyer=buyer, seller=seller))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 1, 500)
    assert delivery.next_attempt_at == start + timedelta(seconds=60)

    process_deadlines()  # not due yet
    assert len(receiver.requests) == 1

    time_machine.move_to(start + timedelta(seconds=61), tick=False)
    process_deadlines()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 2, 503)
    assert delivery.next_attempt_at == start + timedelta(seconds=61 + 120)  # twice the wait

    time_machine.move_to(start + timedelta(seconds=61 + 60), tick=False)
    process_deadlines()  # still backing off
    assert len(receiver.requests) == 2

    time_machine.move_to(start + timedelta(seconds=61 + 121), tick=False)
    done = process_deadlines()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert done["webhook_delivered"] == 1

    time_machine.move_to(start + timedelta(days=2), tick=False)
    process_deadlines()
    assert len(receiver.requests) == 3, "a delivered webhook was sent again"
    # Every attempt carried the same event, byte for byte, and each one verifies.
    assert len({request["body"] for request in receiver.requests}) == 1
    assert all(verify(request) for request in receiver.requests)


def test_an_unreachable_endpoint_is_given_up_after_the_last_attempt(
    policy, buyer, seller, settings, time_machine, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    WebhookEndpoint.objects.create(url=f"http://127.0.0.1:{port}/", secret=SECRET, events=ALL_EVENTS)
    start = timezone.now()
    time_machine.move_to(start, tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        factories.case(order_=factories.order(buyer=buyer, seller=seller))
    for hours in (1, 2, 3, 24):
        time_machine.move_to(start + timedelta(hours=hours), tick=False)
        process_deadlines()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("gave_up", 3, None)
    assert delivery.next_attempt_at is None
    assert "ConnectionRefused" in delivery.last_error or "Connection refused" in delivery.last_error


def test_a_delivery_whose_first_attempt_never_ran_is_sent_by_process_deadlines(
    endpoint, receiver, policy, buyer, seller, time_machine
):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("disputes.api.webhooks.webhook_deliver", lambda **kwargs: None)  # the process died
        from disputes.api.webhooks import webhook_deliveries_create
        from disputes.events import CaseEvent

        case = factories.case(order_=factories.order(buyer=buyer, seller=seller))
        webhook_deliveries_create(event=CaseEvent("filed", case.pk, case.reference, buyer.pk, "", "open", start))

    process_deadlines()
    assert receiver.requests == []  # within the grace for the first attempt
    time_machine.move_to(start + timedelta(minutes=2), tick=False)
    process_deadlines()

    assert [p["type"] for p in receiver.payloads()] == ["case.filed"]
    assert WebhookDelivery.objects.get().status == "delivered"


def test_a_redirect_is_a_failure_not_a_second_request(
    endpoint, receiver, policy, buyer, seller, django_capture_on_commit_callbacks
):
    receiver.answers = [302]

    with django_capture_on_commit_callbacks(execute=True):
        factories.case(order_=factories.order(buyer=buyer, seller=seller))

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code) == ("retrying", 302)
    assert len(receiver.requests) == 1


def test_a_failing_receiver_never_fails_the_api_request(policy, buyer, seller, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/nothing-here", secret=SECRET, events=ALL_EVENTS)
    order = factories.order(buyer=buyer, seller=seller)
    body = {
        "order": order.external_id,
        "reason": "damaged",
        "requested_outcome": "partial_refund",
        "amount_claimed": "20.00",
        "description": "Cracked.",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(buyer).post("/api/v1/cases/", body, format="json")

    assert response.status_code == 201
    assert WebhookDelivery.objects.get().status == "retrying"
