"""The case room and the agents' queue over the real ASGI stack (origin check, session auth, routing).

Every socket signs in with a real session cookie, as a browser would. The database is the
record: frames carry message ids that must match stored rows, and a reconnecting client gets
what it missed from the database.

To assert that something did NOT arrive, without sleeping, a test sends a sentinel that travels
the same way and must be the next frame: a `ping` (answered after every frame the socket sends
in reply to what came before it: resyncs, errors), or a probe through the channel layer to that
person's sockets (delivered after every broadcast queued before it: messages, notes, changes).
"""

import asyncio
import logging
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db import connection
from django.test import Client, RequestFactory

from disputes import consumers, realtime, services
from disputes.models import Case, Message
from disputes.roles import SUPPORT_AGENTS
from disputes.services.conversation import message_post
from marketplace_support.asgi import application
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import token

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()

TIMEOUT = 3  # seconds for a frame that must arrive
ORIGIN = b"http://localhost"


# Connecting


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class Socket:
    """A browser tab's socket: a communicator plus the page's session."""

    def __init__(
        self, path: str, *, user=None, client: Client | None = None, origin: bytes | None = ORIGIN, app=application
    ):
        headers = []
        if origin is not None:
            headers.append((b"origin", origin))
        if client is not None:
            headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
        self.user_id = getattr(user, "pk", None)
        self.ws = WebsocketCommunicator(app, path, headers=headers)

    async def connect(self):
        return await self.ws.connect(timeout=TIMEOUT)

    async def send(self, frame: dict) -> None:
        await self.ws.send_json_to(frame)

    async def send_text(self, text: str) -> None:
        await self.ws.send_to(text_data=text)

    async def receive(self) -> dict:
        return await self.ws.receive_json_from(timeout=TIMEOUT)

    async def receive_many(self, count: int) -> list[dict]:
        return [await self.receive() for _ in range(count)]

    async def close_code(self) -> int:
        """The code the server closed this socket with (after accepting it)."""
        output = await self.ws.receive_output(timeout=TIMEOUT)
        assert output["type"] == "websocket.close", f"expected a close, got {output!r}"
        return output.get("code", 1000)

    async def assert_no_more_replies(self) -> None:
        """The socket sent nothing more in answer to the frames before now."""
        await self.send({"type": "ping"})
        assert await self.receive() == {"type": "pong"}

    async def assert_nothing_broadcast(self) -> None:
        """No broadcast reached this case socket before now: a probe sent through the channel layer
        after them (to this person's sockets, as the presence handler renders it) comes first."""
        probe = {"type": "case.presence", "viewers": ["probe"]}
        await get_channel_layer().group_send(realtime.user_group(self.user_id), probe)
        assert await self.receive() == {"type": "presence", "viewers": ["probe"]}

    async def post(self, body: str, **extra) -> dict:
        """Send a message; return the next frame (its acknowledgement, or an error)."""
        await self.send({"type": "message.send", "body": body, **extra})
        return await self.receive()

    async def disconnect(self) -> None:
        await self.ws.disconnect(timeout=TIMEOUT)


@pytest.fixture
async def sockets():
    """Open sockets as the people of a test; every one is closed at the end."""
    opened: list[Socket] = []

    async def open_socket(
        path: str, user=None, *, client: Client | None = None, origin=ORIGIN, expect_accept=True, app=application
    ):
        if user is not None and client is None:
            client = await database_sync_to_async(signed_in_client)(user)
        socket = Socket(path, user=user, client=client, origin=origin, app=app)
        opened.append(socket)
        connected, _ = await socket.connect()
        if expect_accept:
            assert connected, f"{path} refused {user}"
        socket.accepted = connected
        return socket

    yield open_socket
    errors = []
    for socket in opened:
        try:
            await socket.disconnect()
        except (asyncio.CancelledError, TimeoutError):
            pass  # a wait that timed out in the test cancelled it; the test has failed already
        except Exception as exc:  # noqa: BLE001 - close the other sockets first, then report
            errors.append(exc)
    if errors:
        raise errors[0]


def room(case: Case, after: int | None = None) -> str:
    path = f"/ws/cases/{case.reference}/"
    return f"{path}?after={after}" if after is not None else path


QUEUE = "/ws/console/queue/"


# People and cases


@pytest.fixture
def desk(policy, buyer, seller):
    """A case in mediation with its agent (Ana), and another agent (Ben) who may open it too."""
    agent = factories.agent_user(username="ana", first_name="Ana", last_name="Lopez")
    colleague = factories.agent_user(username="ben", first_name="Ben", last_name="Okafor")
    case = bring_to(Case.State.IN_MEDIATION, factories.case(buyer=buyer, seller=seller), agent=agent)
    return {"case": case, "buyer": buyer, "seller": seller, "agent": agent, "colleague": colleague}


@pytest.fixture
def open_case_tx(policy, buyer, seller):
    return factories.case(buyer=buyer, seller=seller)


def stored(message_id: int) -> Message | None:
    return Message.objects.filter(pk=message_id).first()


def messages_on(case: Case) -> list[tuple[str, bool]]:
    return list(Message.objects.filter(case=case).order_by("pk").values_list("body", "is_internal"))


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
            message_id = payload["frame"]["id"]
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
