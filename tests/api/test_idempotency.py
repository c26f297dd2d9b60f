"""`Idempotency-Key` on POSTs: a retry gets the first answer, a reused key with another body is
refused, a failed request spends no key, and concurrent retries make one record."""

import threading
import time

import pytest
from django.db import connection, connections

from disputes.api.views import conversation
from disputes.models import Case, Evidence, IdempotencyKey, Message
from tests.api.conftest import png, token_client

KEY = "9b2f6c1e-5d1a-4c44-9f0e-2f3a1c7b8d21"


def messages_url(case) -> str:
    return f"/api/v1/cases/{case.reference}/messages/"


@pytest.mark.django_db
def test_the_same_key_and_body_replay_the_first_answer(open_case, buyer):
    client = token_client(buyer)

    first = client.post(messages_url(open_case), {"body": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    again = client.post(messages_url(open_case), {"body": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Message.objects.filter(case=open_case).count() == 1
    record = IdempotencyKey.objects.get()
    assert (record.user, record.key, record.response_status) == (buyer, KEY, 201)


@pytest.mark.django_db
def test_a_replayed_filing_answers_with_the_same_case_and_location(order, buyer):
    client = token_client(buyer)
    body = {
        "order": order.external_id,
        "reason": "damaged",
        "requested_outcome": "partial_refund",
        "amount_claimed": "20.00",
        "description": "Cracked.",
    }

    first = client.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    # The same body with its keys in another order is the same request.
    again = client.post("/api/v1/cases/", dict(reversed(body.items())), format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert again["Location"] == first["Location"]
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422_and_writes_nothing(open_case, buyer):
    client = token_client(buyer)
    client.post(messages_url(open_case), {"body": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    response = client.post(messages_url(open_case), {"body": "Goodbye"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Message.objects.values_list("body", flat=True)) == ["Hello"]


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_is_422(open_case, buyer):
    client = token_client(buyer)
    client.post(messages_url(open_case), {"body": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    response = client.post(
        f"/api/v1/cases/{open_case.reference}/transitions/",
        {"name": "withdraw"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )

    assert response.status_code == 422
    assert Case.objects.get(pk=open_case.pk).state == "open"


@pytest.mark.django_db
def test_a_refused_request_spends_no_key(open_case, buyer):
    client = token_client(buyer)

    refused = client.post(messages_url(open_case), {"body": " "}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    conflict = client.post(
        f"/api/v1/cases/{open_case.reference}/transitions/",
        {"name": "accept_offer"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k2",
    )
    retried = client.post(messages_url(open_case), {"body": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert (refused.status_code, conflict.status_code, retried.status_code) == (400, 409, 201)
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == [KEY]


@pytest.mark.django_db
def test_keys_belong_to_one_user(open_case, buyer, seller):
    by_buyer = token_client(buyer).post(
        messages_url(open_case), {"body": "Hi"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    by_seller = token_client(seller).post(
        messages_url(open_case), {"body": "Hi"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )

    assert by_buyer.status_code == by_seller.status_code == 201
    assert Message.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "é", "x" * 256])
def test_a_malformed_key_is_400(open_case, buyer, key):
    response = token_client(buyer).post(
        messages_url(open_case), {"body": "Hi"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_replayed_upload_stores_the_files_once(open_case, buyer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = token_client(buyer)
    url = f"/api/v1/cases/{open_case.reference}/evidence/"

    first = client.post(url, {"files": [png()]}, format="multipart", HTTP_IDEMPOTENCY_KEY=KEY)
    again = client.post(url, {"files": [png()]}, format="multipart", HTTP_IDEMPOTENCY_KEY=KEY)
    other = client.post(url, {"files": [png("other.png")]}, format="multipart", HTTP_IDEMPOTENCY_KEY=KEY)

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.json() == first.json()
    assert Evidence.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=f"needs concurrent writers on PostgreSQL (the key's unique index); the database is {connection.vendor}",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_make_one_record(policy, buyer, seller, monkeypatch):
    from tests import factories

    case = factories.case(order_=factories.order(buyer=buyer, seller=seller))
    real_post = conversation.message_post

    def slow_post(**kwargs):
        message = real_post(**kwargs)
        time.sleep(0.5)  # hold the transaction, and the new key, while the others arrive
        return message

    monkeypatch.setattr(conversation, "message_post", slow_post)
    racers = 4
    barrier = threading.Barrier(racers, timeout=30)
    responses = [None] * racers

    def send(index):
        try:
            client = token_client(buyer)
            barrier.wait()
            responses[index] = client.post(
                messages_url(case), {"body": "Is anyone there?"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not any(thread.is_alive() for thread in threads), "a request is stuck"
    assert [response.status_code for response in responses] == [201] * racers
    assert all(response.json() == responses[0].json() for response in responses)
    assert sum(not response.has_header("Idempotent-Replayed") for response in responses) == 1
    assert Message.objects.filter(case=case).count() == 1
    assert IdempotencyKey.objects.count() == 1
