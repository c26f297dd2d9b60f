"""The case room and the agents' queue over the real ASGI stack: who may open a socket, messages
and internal notes. The database is the record: frames carry message ids that must match stored rows.
"""

import asyncio
import json
import logging

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.db import connection

from disputes import consumers, realtime
from disputes.models import Case
from disputes.services.conversation import message_post
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.console.sockets import QUEUE, messages_on, room, signed_in_client, stored
from tests.disputes.portal.helpers import token

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()


# Who may open a socket


async def test_case_socket_anonymous_is_refused_with_4401(sockets, open_case_tx):
    socket = await sockets(room(open_case_tx))

    assert await socket.close_code() == consumers.NOT_SIGNED_IN == 4401


@pytest.mark.parametrize("who", ["outsider", "party of another case"])
async def test_case_socket_of_someone_not_party_nor_agent_is_refused_as_not_found(sockets, open_case_tx, who):
    if who == "outsider":
        person = await database_sync_to_async(factories.UserFactory)(username="nosy")
    else:
        other = await database_sync_to_async(factories.case)()
        person = other.buyer

    socket = await sockets(room(open_case_tx), person)

    # The same answer as the pages' 404: the case does not exist for them.
    assert await socket.close_code() == consumers.NOT_FOUND == 4404


async def test_case_socket_for_a_case_that_does_not_exist_is_refused_as_not_found(sockets, buyer):
    socket = await sockets("/ws/cases/MS-999999/", buyer)

    assert await socket.close_code() == 4404


@pytest.mark.parametrize("origin", [b"http://evil.example", None], ids=["foreign origin", "no origin"])
async def test_case_socket_from_a_foreign_or_missing_origin_is_refused_before_it_opens(sockets, open_case_tx, origin):
    socket = await sockets(room(open_case_tx), open_case_tx.buyer, origin=origin, expect_accept=False)

    assert socket.accepted is False


async def test_case_socket_of_a_party_and_of_any_agent_opens(sockets, desk):
    for person in ("buyer", "seller", "agent", "colleague"):
        socket = await sockets(room(desk["case"]), desk[person])
        assert socket.accepted


async def test_queue_socket_is_for_agents_only(sockets, buyer, agent):
    anonymous = await sockets(QUEUE)
    assert await anonymous.close_code() == consumers.NOT_SIGNED_IN

    party = await sockets(QUEUE, buyer)
    assert await party.close_code() == consumers.NOT_ALLOWED == 4403

    staff = await sockets(QUEUE, agent)
    assert staff.accepted
    await staff.send({"type": "message.send", "body": "hello"})
    assert (await staff.receive())["code"] == "read_only"


# Messages


async def test_message_from_the_seller_over_the_socket_reaches_the_buyer_and_the_agent(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    agent = await sockets(room(case), desk["agent"])
    await agent.receive()  # its own presence
    seller = await sockets(room(case), desk["seller"])

    ack = await seller.post("The shade was fine when I posted it.", client_id="tab-1")

    assert ack["type"] == "sent" and ack["client_id"] == "tab-1"
    echo = await seller.receive()
    got_by_buyer = await buyer.receive()
    got_by_agent = await agent.receive()
    assert got_by_buyer == got_by_agent == echo
    assert got_by_buyer["type"] == "message" and got_by_buyer["id"] == ack["id"]
    assert got_by_buyer["body"] == "The shade was fine when I posted it."
    assert got_by_buyer["side"] == "seller" and got_by_buyer["internal"] is False
    row = await database_sync_to_async(stored)(ack["id"])
    assert row.body == "The shade was fine when I posted it." and row.author_id == desk["seller"].pk


async def test_message_from_the_agent_over_the_socket_reaches_both_parties(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    seller = await sockets(room(case), desk["seller"])
    agent = await sockets(room(case), desk["agent"])
    await agent.receive()  # presence

    ack = await agent.post("Could you both send photos of the packaging?")

    for party in (buyer, seller):
        frame = await party.receive()
        assert frame["id"] == ack["id"] and frame["side"] == "agent"
        assert frame["author"] == "Support team · Ana"
        assert frame["body"] == "Could you both send photos of the packaging?"


async def test_message_posted_over_http_and_through_the_service_reaches_the_sockets(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    seller_client = await database_sync_to_async(signed_in_client)(desk["seller"])

    page = await database_sync_to_async(seller_client.post)(
        f"/cases/{case.reference}/messages/", {"submission": token(), "body": "Sent from the case page."}
    )
    assert page.status_code == 302
    over_http = await buyer.receive()
    await database_sync_to_async(message_post)(case=case, author=desk["agent"], body="Sent from the console.")
    over_service = await buyer.receive()

    assert (over_http["body"], over_http["side"]) == ("Sent from the case page.", "seller")
    assert (over_service["body"], over_service["side"]) == ("Sent from the console.", "agent")
    assert over_http["id"] < over_service["id"]
    assert await database_sync_to_async(messages_on)(case) == [
        ("Sent from the case page.", False),
        ("Sent from the console.", False),
    ]


async def test_message_is_committed_before_it_is_broadcast(sockets, desk, monkeypatch):
    """The socket is only a fast path: a frame never names a row a reload would not find."""
    seen_at_broadcast = []
    original = realtime.send_to_group

    def spy(group, payload):
        if payload["type"] == "case.message":
            message_id = json.loads(payload["text"])["id"]
            seen_at_broadcast.append((message_id, connection.in_atomic_block, stored(message_id) is not None))
        original(group, payload)

    monkeypatch.setattr(realtime, "send_to_group", spy)
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    seller = await sockets(room(case), desk["seller"])

    ack = await seller.post("Here is the courier's receipt.")
    frame = await buyer.receive()

    assert seen_at_broadcast == [(ack["id"], False, True)]  # outside any transaction, row present
    row = await database_sync_to_async(stored)(frame["id"])
    assert (row.case_id, row.body, row.is_internal) == (case.pk, "Here is the courier's receipt.", False)


async def test_message_is_stored_and_acknowledged_when_its_broadcast_fails(sockets, desk, monkeypatch, caplog):
    """The post's thread hands the broadcast to the socket server's loop without waiting: a channel
    layer that fails then is logged, and the sender still has their message stored and acknowledged."""
    layer = get_channel_layer()
    group_send = layer.group_send

    async def failing(group, payload):
        if payload["type"] == "case.message":
            raise ConnectionError("the channel layer is gone")
        await group_send(group, payload)

    monkeypatch.setattr(layer, "group_send", failing)
    case = desk["case"]
    seller = await sockets(room(case), desk["seller"])

    with caplog.at_level(logging.ERROR, logger="disputes.realtime"):
        ack = await seller.post("Sent while the layer is down.")
        for _ in range(100):
            if "Could not broadcast case.message" in caplog.text:
                break
            await asyncio.sleep(0.01)

    assert ack["type"] == "sent"
    assert (await database_sync_to_async(stored)(ack["id"])).body == "Sent while the layer is down."
    assert "Could not broadcast case.message" in caplog.text
    await seller.assert_no_more_replies()  # the socket stays open and answers


def test_a_broadcast_handed_to_a_stopped_socket_server_is_logged_not_raised(caplog):
    """A post committed while its worker shuts down: the change stands, the missed send is logged."""
    stopped = asyncio.new_event_loop()
    stopped.close()

    with caplog.at_level(logging.ERROR, logger="disputes.realtime"), realtime.sends_handed_to(stopped):
        realtime.send_to_group(realtime.case_group(1), {"type": "case.changed", "event": "x", "state": "open"})

    assert "Could not broadcast case.changed" in caplog.text


async def test_empty_message_gets_an_error_frame_and_stores_nothing(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    seller = await sockets(room(case), desk["seller"])

    for body in ("", "   \n "):
        error = await buyer.post(body)
        assert error["type"] == "error" and error["code"] == "invalid"
        assert error["message"] == "Write a message first."
    not_text = await buyer.post(None)
    assert not_text["code"] == "invalid"

    assert await database_sync_to_async(messages_on)(case) == []
    await seller.assert_nothing_broadcast()
    await buyer.assert_nothing_broadcast()


# Internal notes


async def test_internal_note_over_the_socket_reaches_agents_and_never_a_party(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    seller = await sockets(room(case), desk["seller"])
    agent = await sockets(room(case), desk["agent"])
    await agent.receive()  # presence [Ana]
    colleague = await sockets(room(case), desk["colleague"])
    await agent.receive(), await colleague.receive()  # presence [Ana, Ben]

    ack = await agent.post("Seller has 3 similar cases this month.", internal=True)
    note_for_agent = await agent.receive()
    note_for_colleague = await colleague.receive()
    public = await agent.post("Thanks, we are looking into it.")

    assert note_for_agent == note_for_colleague
    assert note_for_colleague["id"] == ack["id"] and note_for_colleague["internal"] is True
    assert note_for_colleague["body"] == "Seller has 3 similar cases this month."
    for party in (buyer, seller):
        # The next frame a party gets is the public message: the note was never sent to them.
        frame = await party.receive()
        assert frame["id"] == public["id"] and frame["internal"] is False
        await party.assert_nothing_broadcast()
    assert await database_sync_to_async(messages_on)(case) == [
        ("Seller has 3 similar cases this month.", True),
        ("Thanks, we are looking into it.", False),
    ]


async def test_internal_note_through_the_service_never_reaches_a_party(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    agent = await sockets(room(case), desk["colleague"])
    await agent.receive()  # presence

    await database_sync_to_async(message_post)(case=case, author=desk["agent"], body="Refund likely.", internal=True)
    note = await agent.receive()

    assert note["internal"] is True and note["body"] == "Refund likely."
    await buyer.assert_nothing_broadcast()


@pytest.mark.parametrize("party", ["buyer", "seller"])
async def test_party_cannot_post_an_internal_note(sockets, desk, party):
    case = desk["case"]
    socket = await sockets(room(case), desk[party])
    agent = await sockets(room(case), desk["agent"])
    await agent.receive()  # presence

    error = await socket.post("Let me see the notes.", internal=True)

    assert error["type"] == "error" and error["code"] == "forbidden"
    assert await database_sync_to_async(messages_on)(case) == []
    await agent.assert_nothing_broadcast()


async def test_agent_who_is_a_party_of_the_case_gets_no_internal_notes_on_its_socket(sockets, policy, agent):
    """An agent who also sells on the marketplace is a party on their own case, like any seller."""
    selling_agent = await database_sync_to_async(factories.agent_user)(username="selling_agent")
    case = await database_sync_to_async(factories.case)(seller=selling_agent)
    case = await database_sync_to_async(bring_to)(Case.State.IN_MEDIATION, case, agent=agent)
    note = await database_sync_to_async(message_post)(case=case, author=agent, body="Old note.", internal=True)
    seller = await sockets(room(case, after=0), selling_agent)
    await seller.assert_no_more_replies()  # the resync on connecting left out the old note
    await seller.assert_nothing_broadcast()  # and no presence: the seller is not an agent here

    mediator = await sockets(room(case), agent)
    assert await mediator.receive() == {"type": "presence", "viewers": ["agent"]}  # not the seller
    note_ack = await mediator.post("Seller is one of ours; handle by the book.", internal=True)
    assert (await mediator.receive())["id"] == note_ack["id"]  # the note reaches the agents' group
    public = await mediator.post("We are reviewing the photos.")

    frame = await seller.receive()
    assert frame["id"] == public["id"] and frame["internal"] is False
    await seller.send({"type": "resync", "after": note.pk - 1})
    assert (await seller.receive())["id"] == public["id"]  # the resync skips both notes
    await seller.assert_no_more_replies()
    error = await seller.post("Let me add a note.", internal=True)
    assert error["code"] == "forbidden"
