"""What reaches open sockets besides messages: state changes, presence, signing out, the queue, a
role that changes while the socket is open, and throughput.
"""

import asyncio
import logging
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.test import RequestFactory

from disputes import consumers, realtime, services
from disputes.models import Case
from disputes.roles import SUPPORT_AGENTS
from marketplace_support.asgi import application
from tests.disputes.case_states import bring_to
from tests.disputes.console.sockets import QUEUE, TIMEOUT, messages_on, room, signed_in_client

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()



# Live updates


async def test_state_change_is_pushed_to_every_open_socket_with_that_persons_label(sockets, desk, open_case_tx):
    case = open_case_tx
    agent = await sockets(room(case), desk["agent"])
    await agent.receive()  # presence
    buyer_tabs = [await sockets(room(case), case.buyer), await sockets(room(case), case.buyer)]
    seller = await sockets(room(case), case.seller)

    await database_sync_to_async(services.case_decline_claim)(case=case, seller=case.seller, note="Not damaged.")

    frames = {"seller": await seller.receive(), "agent": await agent.receive()}
    for number, tab in enumerate(buyer_tabs):
        frames[f"buyer tab {number}"] = await tab.receive()
    for frame in frames.values():
        assert frame["type"] == "case.changed"
        assert frame["event"] == "decline_claim" and frame["state"] == Case.State.AWAITING_BUYER
    assert frames["buyer tab 0"]["label"] == frames["buyer tab 1"]["label"] == "Your answer is needed"
    assert frames["seller"]["label"] == "Waiting for the buyer"
    assert frames["agent"]["label"] == "Waiting for the buyer"


async def test_state_change_reaches_a_case_socket_of_another_case_never(sockets, desk, open_case_tx):
    elsewhere = await sockets(room(desk["case"]), desk["buyer"])

    await database_sync_to_async(services.case_decline_claim)(case=open_case_tx, seller=open_case_tx.seller)

    await elsewhere.assert_nothing_broadcast()


async def test_presence_lists_the_agents_who_have_the_case_open(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    ana = await sockets(room(case), desk["agent"])
    assert await ana.receive() == {"type": "presence", "viewers": ["Ana Lopez"]}

    ben = await sockets(room(case), desk["colleague"])
    both = {"type": "presence", "viewers": ["Ana Lopez", "Ben Okafor"]}
    assert await ana.receive() == both
    assert await ben.receive() == both

    await ben.disconnect()
    assert await ana.receive() == {"type": "presence", "viewers": ["Ana Lopez"]}
    await buyer.assert_nothing_broadcast()  # parties are not told who is working on it


class ClientDisconnected(OSError):
    """What an ASGI server raises from `send` once the client has gone (ASGI 2.4; uvicorn's)."""


def served_until(left: asyncio.Event):
    """The desk behind a server whose client goes away once `left` is set: every send then raises."""

    async def served(scope, receive, send):
        async def server_send(message):
            if left.is_set():
                raise ClientDisconnected()
            await send(message)

        return await application(scope, receive, server_send)

    return served


async def test_agent_whose_client_leaves_while_a_message_posts_leaves_as_on_a_close(sockets, desk, caplog):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    ben = await sockets(room(case), desk["colleague"])
    assert await ben.receive() == {"type": "presence", "viewers": ["Ben Okafor"]}
    left = asyncio.Event()
    ana = await sockets(room(case), desk["agent"], app=served_until(left))
    both = {"type": "presence", "viewers": ["Ben Okafor", "Ana Lopez"]}
    assert await ana.receive() == both and await ben.receive() == both

    with caplog.at_level("DEBUG", logger="disputes.consumers"):
        left.set()  # the acknowledgement of what follows finds no one
        await ana.send({"type": "message.send", "body": "Could you send a photo of the box?"})
        await ana.ws.wait(TIMEOUT)  # the socket ends, raising nothing

    posted = [(frame["type"], frame["body"]) for frame in (await buyer.receive(), await ben.receive())]
    assert posted == [("message", "Could you send a photo of the box?")] * 2
    assert await database_sync_to_async(messages_on)(case) == [("Could you send a photo of the box?", False)]
    assert await ben.receive() == {"type": "presence", "viewers": ["Ben Okafor"]}  # Ana no longer shown
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


# Signing out


async def test_signing_out_closes_that_persons_sockets_with_4000(sockets, desk):
    case = desk["case"]
    client = await database_sync_to_async(signed_in_client)(desk["buyer"])
    tabs = [await sockets(room(case), desk["buyer"], client=client) for _ in range(2)]
    seller = await sockets(room(case), desk["seller"])

    response = await database_sync_to_async(client.post)("/accounts/logout/")

    assert response.status_code == 200
    for tab in tabs:
        assert await tab.close_code() == consumers.SESSION_ENDED == 4000
    await seller.assert_no_more_replies()  # someone else's socket stays open
    ack = await seller.post("Still here.")
    assert ack["type"] == "sent"


async def test_signing_out_closes_an_agents_queue_and_case_sockets(sockets, desk):
    queue = await sockets(QUEUE, desk["agent"])
    case_socket = await sockets(room(desk["case"]), desk["agent"])
    await case_socket.receive()  # presence
    request = RequestFactory().post("/accounts/logout/")

    await database_sync_to_async(user_logged_out.send)(sender=type(desk["agent"]), request=request, user=desk["agent"])

    assert await queue.close_code() == 4000
    assert await case_socket.close_code() == 4000


# The queue


async def test_queue_socket_hears_a_newly_escalated_case(sockets, agent, open_case_tx, settings):
    settings.AUTO_ASSIGN_ESCALATIONS = False
    case = open_case_tx
    queue = await sockets(QUEUE, agent)

    await database_sync_to_async(services.case_decline_claim)(case=case, seller=case.seller)
    await queue.send({"type": "ping"})  # the feed answers every frame with `read_only`: a sentinel
    assert (await queue.receive())["code"] == "read_only"  # so the decline was not a queue matter
    await database_sync_to_async(services.case_escalate)(case=case, buyer=case.buyer)

    frame = await queue.receive()
    assert frame == {"type": "queue.changed", "reference": case.reference, "state": "escalated", "event": "escalate"}


async def test_queue_socket_hears_when_a_case_leaves_the_queue(sockets, agent, open_case_tx, settings):
    settings.AUTO_ASSIGN_ESCALATIONS = False
    case = await database_sync_to_async(bring_to)(Case.State.ESCALATED, open_case_tx)
    queue = await sockets(QUEUE, agent)

    await database_sync_to_async(services.case_claim)(case=case, agent=agent)

    frame = await queue.receive()
    assert (frame["type"], frame["reference"], frame["state"]) == ("queue.changed", case.reference, "in_mediation")


# A role that changes while the socket is open


def demote(user) -> None:
    user.groups.remove(Group.objects.get(name=SUPPORT_AGENTS))


async def test_agent_who_lost_the_role_stops_hearing_internal_notes_and_leaves_the_viewers(sockets, desk):
    case = desk["case"]
    ana = await sockets(room(case), desk["agent"])
    await ana.receive()  # presence [Ana]
    ben = await sockets(room(case), desk["colleague"])
    await ana.receive(), await ben.receive()  # presence [Ana, Ben]

    await database_sync_to_async(demote)(desk["colleague"])

    # Told at once: Ben's socket leaves the viewers without waiting for a note.
    assert await ana.receive() == {"type": "presence", "viewers": ["Ana Lopez"]}
    ack = await ana.post("Seller has 3 similar cases this month.", internal=True)
    assert (await ana.receive())["id"] == ack["id"]
    public = await ana.post("We are looking into it.")
    assert (await ana.receive())["id"] == public["id"]
    await ben.assert_nothing_broadcast()  # neither the note nor the message: the case is no longer his to see
    error = await ben.post("A note anyway.", internal=True)
    assert error["code"] == "forbidden"


async def test_agent_role_removed_without_notice_is_read_again_before_the_next_note(sockets, desk, monkeypatch):
    """A change the socket is not told about is seen once it stops trusting the role it read:
    within a few seconds, at once in this test."""
    case = desk["case"]
    ana = await sockets(room(case), desk["agent"])
    await ana.receive()
    ben = await sockets(room(case), desk["colleague"])
    await ana.receive(), await ben.receive()
    monkeypatch.setattr(realtime, "tell_role_changed", lambda user_ids: None)

    await database_sync_to_async(demote)(desk["colleague"])
    await ben.assert_nothing_broadcast()  # nothing told the socket
    monkeypatch.setattr(consumers, "ROLE_TRUSTED_SECONDS", 0)
    ack = await ana.post("Refund likely.", internal=True)

    assert (await ana.receive())["id"] == ack["id"]
    assert await ana.receive() == {"type": "presence", "viewers": ["Ana Lopez"]}  # Ben left on reading it
    await ben.assert_nothing_broadcast()


async def test_agent_whose_account_is_deactivated_cannot_post_on_an_open_socket(sockets, desk):
    case = desk["case"]
    ana = await sockets(room(case), desk["agent"])
    await ana.receive()
    ben = await sockets(room(case), desk["colleague"])
    await ana.receive(), await ben.receive()

    def deactivate(user):
        user.is_active = False
        user.save()

    await database_sync_to_async(deactivate)(desk["colleague"])
    assert await ana.receive() == {"type": "presence", "viewers": ["Ana Lopez"]}  # his socket was told
    error = await ben.post("Still here?")

    assert error.get("code") == "forbidden", error
    assert await database_sync_to_async(messages_on)(case) == []


async def test_queue_socket_of_an_agent_who_lost_the_role_is_closed(sockets, desk):
    queue = await sockets(QUEUE, desk["colleague"])

    await database_sync_to_async(demote)(desk["colleague"])

    assert await queue.close_code() == consumers.NOT_ALLOWED


# Throughput


async def test_message_is_stored_while_the_workers_shared_sync_thread_is_busy(sockets, desk):
    """Messages are written on threads of their own: a slow call on the shared sync thread (another
    socket's connect, a page's query) does not hold them up."""
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    release = threading.Event()
    busy = asyncio.ensure_future(sync_to_async(release.wait)())  # thread_sensitive: the shared thread
    try:
        ack = await buyer.post("Posted while the shared thread is busy.")
        assert ack["type"] == "sent"
        assert (await buyer.receive())["id"] == ack["id"]
    finally:
        release.set()
        await busy
    assert await database_sync_to_async(messages_on)(case) == [("Posted while the shared thread is busy.", False)]
