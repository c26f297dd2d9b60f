"""Hostile frames on a case's socket, over the real ASGI stack: every one is answered with an error
frame (the socket stays open and keeps working) and stores nothing; nothing escapes the consumer."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group
from hypothesis import given, settings
from hypothesis import strategies as st

from disputes import consumers
from disputes.models import Message
from disputes.roles import SUPPORT_AGENTS
from tests import factories
from tests.disputes.console.sockets import Socket, desk, room, signed_in_client, sockets  # noqa: F401
from tests.hostile.conftest import HOSTILE

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = "<script>alert(1)</script>" + "x" * (consumers.MAX_FRAME_BYTES + 1)

# (raw text frame, the error code it must get)
BAD_TEXT_FRAMES = {
    "not json": ("{", "bad_json"),
    "truncated json": ('{"type": "message.send", "body": "hi"', "bad_json"),
    "json array": ('["message.send", "hi"]', "bad_frame"),
    "json number": ("1", "bad_frame"),
    "json null": ("null", "bad_frame"),
    "json string": ('"message.send"', "bad_frame"),
    "no type": ('{"body": "hi"}', "unknown_type"),
    "unknown type": ('{"type": "case.delete"}', "unknown_type"),
    "type not a string": ('{"type": ["message.send"], "body": "hi"}', "unknown_type"),
    "body a number": ('{"type": "message.send", "body": 5}', "invalid"),
    "body a list": ('{"type": "message.send", "body": ["<script>"]}', "invalid"),
    "body an object": ('{"type": "message.send", "body": {"text": "hi"}}', "invalid"),
    "body null": ('{"type": "message.send", "body": null}', "invalid"),
    "no body": ('{"type": "message.send"}', "invalid"),
    "blank body": ('{"type": "message.send", "body": " \\n\\t "}', "invalid"),
    "body over the message limit": (json.dumps({"type": "message.send", "body": "y" * 5001}), "invalid"),
    "body with NUL": ('{"type": "message.send", "body": "a\\u0000b"}', "invalid"),
    "body with a lone surrogate": ('{"type": "message.send", "body": "a\\ud800b"}', "invalid"),
    "frame over 16 KB": (json.dumps({"type": "message.send", "body": HUGE}), "too_large"),
    "after a string": ('{"type": "resync", "after": "last"}', "invalid"),
    "after a list": ('{"type": "resync", "after": [1]}', "invalid"),
    "after an object": ('{"type": "resync", "after": {}}', "invalid"),
    "after negative": ('{"type": "resync", "after": -1}', "invalid"),
    "after beyond any id": ('{"type": "resync", "after": 99999999999999999999999999}', "invalid"),
    "after Infinity": ('{"type": "resync", "after": Infinity}', "invalid"),
    "after NaN": ('{"type": "resync", "after": NaN}', "invalid"),
    "after 1e400": ('{"type": "resync", "after": 1e400}', "invalid"),
    "after with 5000 digits": ('{"type": "resync", "after": "' + "9" * 5000 + '"}', "invalid"),
}


def count(case) -> int:
    return Message.objects.filter(case=case).count()


async def still_works(socket, case) -> None:
    """The socket is open and a valid message still goes through (and is stored once)."""
    await socket.assert_no_more_replies()
    before = await database_sync_to_async(count)(case)
    ack = await socket.post("Still here.")
    assert ack["type"] == "sent", ack
    echo = await socket.receive()
    assert echo["type"] == "message" and echo["id"] == ack["id"]
    assert await database_sync_to_async(count)(case) == before + 1


async def test_case_socket_answers_every_bad_frame_with_an_error_and_stores_nothing(sockets, desk):
    # One fresh socket per frame (one test: a transactional test's setup costs more than the frames).
    case = desk["case"]
    for label, (text, code) in BAD_TEXT_FRAMES.items():
        buyer = await sockets(room(case), desk["buyer"])
        before = await database_sync_to_async(count)(case)

        await buyer.send_text(text)

        reply = await buyer.receive()
        assert reply["type"] == "error" and reply["code"] == code, (label, reply)
        assert isinstance(reply["message"], str) and reply["message"], label
        assert await database_sync_to_async(count)(case) == before, label
        await still_works(buyer, case)
        await buyer.disconnect()


async def test_case_socket_answers_a_binary_frame_with_an_error(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])

    await buyer.ws.send_to(bytes_data=b'{"type": "message.send", "body": "hi"}')

    reply = await buyer.receive()
    assert reply["type"] == "error" and reply["code"] == "bad_frame"
    assert await database_sync_to_async(count)(case) == 0
    await still_works(buyer, case)


async def test_case_socket_with_an_odd_after_in_its_address_opens_and_says_so(sockets, desk):
    case = desk["case"]
    for after in ["-5", "x", "1e3", "99999999999999999999999999", "%00", "1;DROP TABLE", "true"]:
        buyer = await sockets(f"/ws/cases/{case.reference}/?after={after}", desk["buyer"])

        reply = await buyer.receive()
        assert reply["type"] == "error" and reply["code"] == "invalid", (after, reply)
        await still_works(buyer, case)
        await buyer.disconnect()


async def test_message_frame_naming_another_case_is_posted_only_where_the_socket_is(sockets, desk):
    case = desk["case"]
    other = await database_sync_to_async(factories.case)()  # another buyer's case
    buyer = await sockets(room(case), desk["buyer"])

    ack = await buyer.post(
        "Meant for elsewhere",
        case=other.reference,
        reference=other.reference,
        case_id=other.pk,
        room=f"case-{other.pk}",
    )

    assert ack["type"] == "sent"
    assert await database_sync_to_async(count)(other) == 0
    stored = await database_sync_to_async(Message.objects.get)(pk=ack["id"])
    assert stored.case_id == case.pk and stored.author_id == desk["buyer"].pk


async def test_message_frame_from_an_agent_who_lost_the_role_stores_nothing(sockets, desk):
    """Not a party and no longer an agent: the socket opened while they were one."""
    case = desk["case"]
    colleague = desk["colleague"]
    socket = await sockets(room(case), colleague)
    await socket.receive()  # presence

    def demote():
        colleague.groups.remove(Group.objects.get(name=SUPPORT_AGENTS))

    await database_sync_to_async(demote)()
    await socket.send({"type": "message.send", "body": "<script>alert(1)</script>", "internal": True})

    reply = await socket.receive()
    assert reply["type"] == "error" and reply["code"] == "forbidden"
    assert await database_sync_to_async(count)(case) == 0


async def test_resync_with_a_huge_frame_of_ids_is_refused_and_the_socket_still_works(sockets, desk):
    case = desk["case"]
    buyer = await sockets(room(case), desk["buyer"])

    await buyer.send({"type": "resync", "after": list(range(5000))})

    reply = await buyer.receive()
    assert reply["type"] == "error"
    await still_works(buyer, case)


# Any JSON at all, except a message that would be posted: answered, nothing stored, still open.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
frames = st.fixed_dictionaries(
    {"type": st.sampled_from(["message.send", "resync", "ping", "pong", "", "MESSAGE.SEND", "message.send "])},
    optional={"after": json_values, "body": json_values.filter(lambda value: not isinstance(value, str))},
) | json_values


@settings(HOSTILE, max_examples=15)
@given(frame=frames)
def test_case_socket_survives_any_json_frame_and_stores_nothing(desk, frame):
    case = desk["case"]
    before = count(case)

    async def converse():
        client = await database_sync_to_async(signed_in_client)(desk["buyer"])
        socket = Socket(room(case), user=desk["buyer"], client=client)
        connected, _ = await socket.connect()
        assert connected
        try:
            await socket.send_text(json.dumps(frame))
            await socket.send({"type": "ping"})
            for _ in range(50):  # whatever it answers (errors, resynced messages), then the pong
                reply = await socket.receive()
                assert isinstance(reply, dict) and isinstance(reply.get("type"), str)
                if reply == {"type": "pong"}:
                    break
            else:
                pytest.fail("no pong")
        finally:
            await socket.disconnect()

    async_to_sync(converse)()
    assert count(case) == before
