"""A socket goes on delivering its room's messages while its own message is being stored, and
still answers what its client sends one frame after another, in the order sent."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async

from disputes import socket_work
from disputes.services.conversation import message_post
from tests.disputes.console.sockets import TIMEOUT, messages_on, room

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def held_posts(monkeypatch):
    """Messages sent over sockets are stored only once `release` is set; `storing` says one started."""
    storing, release = threading.Event(), threading.Event()
    post = socket_work.post_as_now

    def held(*args, **kwargs):
        storing.set()
        assert release.wait(TIMEOUT), "never released"
        return post(*args, **kwargs)

    monkeypatch.setattr(socket_work, "post_as_now", held)
    yield storing, release
    release.set()


async def test_the_room_reaches_a_socket_whose_own_message_is_being_stored(sockets, desk, held_posts):
    storing, release = held_posts
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])

    await buyer.send({"type": "message.send", "body": "Where is my refund?", "client_id": "b1"})
    assert await asyncio.to_thread(storing.wait, TIMEOUT)
    await database_sync_to_async(message_post)(case=case, author=desk["seller"], body="Refunded this morning.")

    meanwhile = await buyer.receive()
    assert meanwhile["type"] == "message" and meanwhile["body"] == "Refunded this morning."
    release.set()
    ack = await buyer.answer()
    assert ack["type"] == "sent" and ack["client_id"] == "b1"
    assert (await buyer.receive())["body"] == "Where is my refund?"


async def test_what_a_client_sends_is_answered_in_the_order_sent(sockets, desk, held_posts):
    storing, release = held_posts
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])

    await buyer.send({"type": "message.send", "body": "One", "client_id": "1"})
    await buyer.send({"type": "ping"})
    await buyer.send({"type": "message.send", "body": "Two", "client_id": "2"})
    assert await asyncio.to_thread(storing.wait, TIMEOUT)
    release.set()

    frames = await buyer.receive_many(5)  # the two acknowledgements, the pong and the two messages
    answers = [frame for frame in frames if frame["type"] in ("sent", "pong")]
    assert [(a["type"], a.get("client_id")) for a in answers] == [("sent", "1"), ("pong", None), ("sent", "2")]
    assert await database_sync_to_async(messages_on)(case) == [("One", False), ("Two", False)]


async def test_a_message_sent_just_before_the_socket_closes_is_stored(sockets, desk, held_posts):
    storing, release = held_posts
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])

    await buyer.send({"type": "message.send", "body": "Sent as the tab closed"})
    assert await asyncio.to_thread(storing.wait, TIMEOUT)
    closing = asyncio.ensure_future(buyer.disconnect())
    await asyncio.sleep(0.05)
    release.set()
    await closing

    assert await database_sync_to_async(messages_on)(case) == [("Sent as the tab closed", False)]
