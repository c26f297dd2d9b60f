"""Per-user rate limits on messages, filings and evidence files: pages, the API and the case socket
share one allowance (counted in the cache), refuse the first write past it with 429 (an error frame
on the socket), and store nothing for it."""

import os
import uuid
from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from disputes.models import Case, Evidence, Message
from marketplace_support.asgi import application
from tests import factories
from tests.api.conftest import png, png_bytes, token_client

LIMITS = {"message": "2/minute", "filing": "2/hour", "upload": "2/hour"}


@pytest.fixture(autouse=True)
def small_limits(settings, tmp_path):
    settings.RATE_LIMITS = LIMITS
    settings.MEDIA_ROOT = tmp_path / "media"


def token() -> str:
    return str(uuid.uuid4())


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_message(client, case, body):
    return client.post(f"{case.get_absolute_url()}messages/", {"submission": token(), "body": body})


def post_evidence(client, case, *names):
    files = [png(name) for name in names]
    return client.post(f"{case.get_absolute_url()}evidence/", {"submission": token(), "files": files})


def file_case(client, order, description="The shade was cracked in the box."):
    return client.post(
        "/cases/new/",
        {
            "submission": token(),
            "order": order.external_id,
            "reason": "damaged",
            "requested_outcome": "partial_refund",
            "amount_claimed": "30.00",
            "description": description,
        },
    )


def api_url(case, what):
    return f"/api/v1/cases/{case.reference}/{what}/"


def assert_api_refused(response, what: str, period: str):
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "rate_limited"
    assert f"at most 2 {what} per {period}" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) == response.json()["retry_after"]


# Messages


def test_page_message_one_past_the_limit_is_refused_with_what_was_typed_kept(open_case, buyer):
    client = page_client(buyer)
    assert post_message(client, open_case, "First").status_code == 302
    assert post_message(client, open_case, "Second").status_code == 302

    page = post_message(client, open_case, "Third, typed with care")

    assert page.status_code == 429
    assert 0 < int(page["Retry-After"]) <= 60
    assert "You can send at most 2 messages per minute." in page.text
    assert "Third, typed with care</textarea>" in page.text
    assert list(Message.objects.filter(case=open_case).values_list("body", flat=True)) == ["First", "Second"]


def test_the_next_window_takes_messages_again(open_case, buyer):
    client = page_client(buyer)
    post_message(client, open_case, "First")
    post_message(client, open_case, "Second")
    assert post_message(client, open_case, "Third").status_code == 429

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert post_message(client, open_case, "Third").status_code == 302

    assert Message.objects.filter(case=open_case).count() == 3


def test_api_message_one_past_the_limit_is_429_with_retry_after(open_case, buyer):
    api = token_client(buyer)
    for body in ("First", "Second"):
        assert api.post(api_url(open_case, "messages"), {"body": body}, format="json").status_code == 201

    response = api.post(api_url(open_case, "messages"), {"body": "Third"}, format="json")

    assert_api_refused(response, "messages", "minute")
    assert Message.objects.filter(case=open_case).count() == 2


def test_limits_are_per_user(open_case, buyer, seller):
    buyer_client, seller_client = page_client(buyer), page_client(seller)
    post_message(buyer_client, open_case, "One")
    post_message(buyer_client, open_case, "Two")

    assert post_message(seller_client, open_case, "The seller may still write").status_code == 302
    assert post_message(buyer_client, open_case, "Three").status_code == 429


@pytest.mark.django_db(transaction=True)
async def test_page_api_and_socket_share_one_message_allowance(open_case, buyer):
    """One message by page, one by API: the socket's is one past the limit and gets the error frame."""
    client = await database_sync_to_async(page_client)(buyer)
    assert (await database_sync_to_async(post_message)(client, open_case, "By the page")).status_code == 302
    api = await database_sync_to_async(token_client)(buyer)
    sent = await database_sync_to_async(api.post)(api_url(open_case, "messages"), {"body": "By the API"}, format="json")
    assert sent.status_code == 201
    socket = WebsocketCommunicator(
        application,
        f"/ws/cases/{open_case.reference}/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())],
    )
    connected, _ = await socket.connect(timeout=3)
    assert connected
    try:
        await socket.send_json_to({"type": "message.send", "body": "By the socket", "client_id": "c1"})
        frame = await socket.receive_json_from(timeout=3)
    finally:
        await socket.disconnect()

    assert frame["type"] == "error" and frame["code"] == "rate_limited"
    assert "at most 2 messages per minute" in frame["message"]
    bodies = await database_sync_to_async(lambda: list(Message.objects.values_list("body", flat=True)))()
    assert bodies == ["By the page", "By the API"]


@pytest.mark.django_db(transaction=True)
async def test_socket_messages_at_the_limit_are_sent_and_one_past_is_refused(open_case, buyer):
    client = await database_sync_to_async(page_client)(buyer)
    socket = WebsocketCommunicator(
        application,
        f"/ws/cases/{open_case.reference}/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())],
    )
    assert (await socket.connect(timeout=3))[0]
    replies = []
    try:
        for number in range(3):
            await socket.send_json_to({"type": "message.send", "body": f"Message {number}", "client_id": str(number)})
            while True:  # skip the broadcasts of the messages that went through
                frame = await socket.receive_json_from(timeout=3)
                if frame["type"] in ("sent", "error"):
                    replies.append(frame)
                    break
    finally:
        await socket.disconnect()

    assert [frame["type"] for frame in replies] == ["sent", "sent", "error"]
    assert replies[2]["code"] == "rate_limited"
    count = await database_sync_to_async(Message.objects.count)()
    assert count == 2


# Filing


@pytest.fixture
def three_orders(policy, buyer, seller):
    return [factories.order(buyer=buyer, seller=seller, external_id=f"ORD-RL-{n}") for n in range(3)]


def test_page_filing_one_past_the_limit_is_refused_with_the_form_kept(three_orders, buyer):
    client = page_client(buyer)
    for order in three_orders[:2]:
        assert file_case(client, order).status_code == 302

    page = file_case(client, three_orders[2], description="A third story, kept for later")

    assert page.status_code == 429
    assert 0 < int(page["Retry-After"]) <= 3600
    assert "You can send at most 2 new cases per hour." in page.text
    assert "A third story, kept for later</textarea>" in page.text
    assert Case.objects.filter(buyer=buyer).count() == 2
    assert not Case.objects.filter(order=three_orders[2]).exists()


def test_api_filing_one_past_the_limit_is_429(three_orders, buyer):
    api = token_client(buyer)
    body = {"reason": "damaged", "requested_outcome": "partial_refund", "amount_claimed": "30.00", "description": "x"}
    for order in three_orders[:2]:
        assert api.post("/api/v1/cases/", {**body, "order": order.external_id}, format="json").status_code == 201

    response = api.post("/api/v1/cases/", {**body, "order": three_orders[2].external_id}, format="json")

    assert_api_refused(response, "new cases", "hour")
    assert Case.objects.count() == 2


def test_a_refused_filing_does_not_use_up_the_allowance(three_orders, buyer):
    """A filing refused for another reason (here: an amount above the order's) counts nothing."""
    client = page_client(buyer)
    assert client.post(
        "/cases/new/",
        {"submission": token(), "order": three_orders[0].external_id, "reason": "damaged",
         "requested_outcome": "partial_refund", "amount_claimed": "9999.00", "description": "Too much"},
    ).status_code == 200

    assert file_case(client, three_orders[0]).status_code == 302
    assert file_case(client, three_orders[1]).status_code == 302


# Evidence


def test_page_upload_one_past_the_limit_is_refused_and_stores_nothing(open_case, buyer):
    client = page_client(buyer)
    assert post_evidence(client, open_case, "one.png").status_code == 302
    assert post_evidence(client, open_case, "two.png").status_code == 302

    page = post_evidence(client, open_case, "three.png")

    assert page.status_code == 429
    assert "You can send at most 2 evidence files per hour." in page.text
    assert sorted(Evidence.objects.values_list("original_name", flat=True)) == ["one.png", "two.png"]


def test_files_count_one_by_one_and_a_request_over_the_limit_stores_none(open_case, buyer):
    client = page_client(buyer)

    assert post_evidence(client, open_case, "a.png", "b.png", "c.png").status_code == 429
    assert Evidence.objects.count() == 0
    assert post_evidence(client, open_case, "a.png", "b.png").status_code == 302  # the refusal used up nothing
    assert Evidence.objects.count() == 2


def test_api_upload_one_past_the_limit_is_429(open_case, buyer):
    api = token_client(buyer)
    for name in ("one.png", "two.png"):
        assert api.post(api_url(open_case, "evidence"), {"files": [png(name)]}, format="multipart").status_code == 201

    response = api.post(api_url(open_case, "evidence"), {"files": [png("three.png")]}, format="multipart")

    assert_api_refused(response, "evidence files", "hour")
    assert Evidence.objects.count() == 2


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
def test_counters_are_shared_by_every_worker_through_redis(settings, monkeypatch, buyer):
    """Two cache connections of their own, as two server processes have, count against one limit."""
    from marketplace_support.redis_cache import RedisCache

    from disputes import ratelimits

    config = settings.CACHES["default"]
    assert config["BACKEND"] == "marketplace_support.redis_cache.RedisCache"
    first, second = (RedisCache(config["LOCATION"], {"KEY_PREFIX": config["KEY_PREFIX"]}) for _ in range(2))

    monkeypatch.setattr(ratelimits, "cache", first)
    ratelimits.rate_limit(user=buyer, message=1)
    monkeypatch.setattr(ratelimits, "cache", second)
    ratelimits.rate_limit(user=buyer, message=1)

    with pytest.raises(ratelimits.RateLimited):
        ratelimits.rate_limit(user=buyer, message=1)
    monkeypatch.setattr(ratelimits, "cache", first)
    with pytest.raises(ratelimits.RateLimited):
        ratelimits.rate_limit(user=buyer, message=1)
