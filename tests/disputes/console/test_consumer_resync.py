"""A case socket that reconnects or resyncs gets what it missed from the database, and bad frames
get an error without closing anyone's socket.
"""


import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from disputes import consumers
from disputes.models import Message
from disputes.services.conversation import message_post
from tests.disputes.console.sockets import messages_on, room

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()



# Reconnecting and resyncing


@pytest.fixture
def conversation(desk):
    """A first message both sides saw, then what a disconnected party missed (with a note)."""
    case = desk["case"]
    first = message_post(case=case, author=desk["buyer"], body="The shade is cracked.")
    missed_1 = message_post(case=case, author=desk["seller"], body="It left here intact.")
    note = message_post(case=case, author=desk["agent"], body="Ask the courier.", internal=True)
    missed_2 = message_post(case=case, author=desk["agent"], body="We asked the courier.")
    return {"first": first, "missed": [missed_1, missed_2], "note": note}


async def test_party_reconnecting_with_after_id_gets_exactly_the_missed_messages(sockets, desk, conversation):
    buyer = await sockets(room(desk["case"], after=conversation["first"].pk), desk["buyer"])

    frames = await buyer.receive_many(2)

    assert [frame["id"] for frame in frames] == [message.pk for message in conversation["missed"]]
    assert [frame["body"] for frame in frames] == ["It left here intact.", "We asked the courier."]
    await buyer.assert_no_more_replies()  # not the note, not the first message again


async def test_agent_reconnecting_with_after_id_also_gets_the_missed_notes(sockets, desk, conversation):
    agent = await sockets(room(desk["case"], after=conversation["first"].pk), desk["colleague"])

    frames = await agent.receive_many(4)

    resync = [frame for frame in frames if frame["type"] == "message"]
    assert [frame["id"] for frame in resync] == [
        conversation["missed"][0].pk,
        conversation["note"].pk,
        conversation["missed"][1].pk,
    ]
    assert [frame["type"] for frame in frames].count("presence") == 1


async def test_resync_frame_gets_exactly_the_messages_after_the_id(sockets, desk, conversation):
    seller = await sockets(room(desk["case"]), desk["seller"])
    await seller.assert_no_more_replies()  # no `after`: nothing is replayed

    await seller.send({"type": "resync", "after": conversation["first"].pk})
    frames = await seller.receive_many(2)

    assert [frame["id"] for frame in frames] == [message.pk for message in conversation["missed"]]
    await seller.assert_no_more_replies()

    await seller.send({"type": "resync", "after": conversation["missed"][1].pk})
    await seller.assert_no_more_replies()  # up to date: nothing to send


async def test_each_live_message_names_the_one_before_it_for_agents_and_for_the_parties(sockets, desk):
    """Ids are global, so this is how a client tells it missed one; a note is no gap to a party."""
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    agent = await sockets(room(case), desk["agent"])
    await agent.receive()  # presence [Ana]
    before = await database_sync_to_async(lambda: case.messages.order_by("pk").last())()
    assert before is None or not before.is_internal, "the case must start on a public message"

    first = await buyer.post("Where is my refund?")
    first_for_buyer, first_for_agent = await buyer.receive(), await agent.receive()
    note = await agent.post("Bank transfer pending.", internal=True)
    await agent.receive()
    reply = await agent.post("It is on its way.")
    reply_for_buyer, reply_for_agent = await buyer.receive(), await agent.receive()

    start = before.pk if before is not None else 0
    assert first_for_buyer == first_for_agent
    assert (first_for_buyer["previous_id"], first_for_buyer["previous_public_id"]) == (start, start)
    assert reply_for_buyer == reply_for_agent and reply_for_buyer["id"] == reply["id"]
    assert (reply_for_buyer["previous_id"], reply_for_buyer["previous_public_id"]) == (note["id"], first["id"])


async def test_resync_with_an_after_that_is_not_an_id_gets_an_error_frame(sockets, desk):
    seller = await sockets(room(desk["case"]), desk["seller"])

    await seller.send({"type": "resync", "after": "yesterday"})

    assert (await seller.receive())["code"] == "invalid"
    await seller.assert_no_more_replies()


async def test_reconnect_after_a_dropped_socket_catches_up_live_and_missed(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    seller = await sockets(room(case), desk["seller"])
    await seller.post("Photo attached earlier.")
    await seller.receive()  # its own echo
    seen = await buyer.receive()
    await buyer.disconnect()

    missed = await seller.post("Did you get my photo?")
    await seller.receive()
    back = await sockets(room(case, after=seen["id"]), desk["buyer"])

    frame = await back.receive()
    assert frame["id"] == missed["id"] and frame["body"] == "Did you get my photo?"
    live = await seller.post("Still there?")
    assert (await back.receive())["id"] == live["id"]


# Bad frames


async def test_oversize_frame_gets_an_error_and_the_socket_stays_usable(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    seller = await sockets(room(case), desk["seller"])

    await buyer.send({"type": "message.send", "body": "x" * consumers.MAX_FRAME_BYTES})
    error = await buyer.receive()

    assert error["type"] == "error" and error["code"] == "too_large"
    assert await database_sync_to_async(messages_on)(case) == []
    ack = await buyer.post("A short one instead.")
    assert ack["type"] == "sent"
    assert (await seller.receive())["id"] == ack["id"]


async def test_message_over_the_stored_length_gets_an_error_and_stores_nothing(sockets, desk):
    buyer = await sockets(room(desk["case"]), desk["buyer"])

    error = await buyer.post("y" * (Message.MAX_LENGTH + 1))

    assert error["code"] == "invalid" and str(Message.MAX_LENGTH) in error["message"]
    assert await database_sync_to_async(messages_on)(desk["case"]) == []


@pytest.mark.parametrize(
    "text, code",
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('"hello"', "bad_frame"),
        ('{"type": "shout"}', "unknown_type"),
    ],
)
async def test_malformed_frame_gets_an_error_and_nobody_is_disconnected(sockets, desk, text, code):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    seller = await sockets(room(case), desk["seller"])

    await buyer.send_text(text)
    error = await buyer.receive()

    assert error["type"] == "error" and error["code"] == code and error["message"]
    ack = await buyer.post("Sorry, typo.")
    assert (await seller.receive())["id"] == ack["id"]  # the other client is unaffected
    assert (await buyer.receive())["id"] == ack["id"]


async def test_binary_frame_gets_an_error_and_the_socket_stays_usable(sockets, desk):
    buyer = await sockets(room(desk["case"]), desk["buyer"])

    await buyer.ws.send_to(bytes_data=b"\x00\x01")

    assert (await buyer.receive())["type"] == "error"
    await buyer.assert_no_more_replies()


async def test_message_past_the_rate_limit_is_refused_and_not_stored(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])
    seller = await sockets(room(case), desk["seller"])
    limit = consumers.MESSAGES_PER_WINDOW

    for number in range(limit):
        assert (await buyer.post(f"message {number}"))["type"] == "sent"
        await buyer.receive()  # echo
    refused = await buyer.post("one too many")

    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    bodies = [body for body, _ in await database_sync_to_async(messages_on)(case)]
    assert bodies == [f"message {number}" for number in range(limit)]
    assert [frame["body"] for frame in await seller.receive_many(limit)] == bodies
    await seller.assert_nothing_broadcast()
    ack = await seller.post("The seller is not limited by the buyer's pace.")  # other clients unaffected
    assert ack["type"] == "sent"


