"""Chat messages: who is told, and what one message costs on the socket's path.

The socket posts through `socket_work.post_as_now` with the person it trusts (read at connect or
a few seconds ago); what runs after commit (notices, the broadcast, webhooks) is counted too.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disputes import permissions, realtime, socket_work
from disputes.models import Case, Notification
from tests import factories
from tests.disputes.case_states import bring_to

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mediated(policy, buyer, seller, agent):
    return bring_to(Case.State.IN_MEDIATION, factories.case(buyer=buyer, seller=seller), agent=agent)


def post(case, author, body, *, internal=False, reread=False):
    """As the socket does: the case and the person it kept, the post on the message threads."""
    _, message = socket_work.post_as_now(socket_work.room_of(case), author, body, internal=internal, reread=reread)
    return message


def notices(case) -> list[tuple[str, str]]:
    rows = Notification.objects.filter(case=case, event__in=["message_posted", "note_added"])
    rows = rows.select_related("recipient").order_by("pk")
    return [(notice.recipient.username, notice.text) for notice in rows]


def test_message_from_a_party_tells_the_other_party_by_name(mediated, buyer):
    buyer.first_name, buyer.last_name = "Bea", "Brown"
    buyer.save()
    mail.outbox.clear()

    post(mediated, buyer, "The shade is cracked.")

    assert notices(mediated) == [("seller", f"The buyer (Bea Brown) wrote on case {mediated.reference}.")]
    assert [message.to for message in mail.outbox] == [[mediated.seller.email]]


def test_message_from_an_agent_tells_both_parties_as_the_team(mediated, agent):
    post(mediated, agent, "Could you both send photos?")

    text = f"Our team wrote on case {mediated.reference}."
    assert notices(mediated) == [("buyer", text), ("seller", text)]


def test_a_chat_tells_each_party_once_until_they_look(client, mediated, buyer, seller, agent):
    mail.outbox.clear()
    post(mediated, buyer, "The shade is cracked.")
    post(mediated, agent, "Could you both send photos?")
    post(mediated, buyer, "Sending them now.")

    # the seller: one notice and one email for the three messages; the buyer: one, for the agent's
    assert [name for name, _ in notices(mediated)] == ["seller", "buyer"]
    assert sorted(message.to[0] for message in mail.outbox) == sorted([seller.email, buyer.email])

    client.force_login(seller)
    client.get(mediated.get_absolute_url())  # the seller reads the case
    mail.outbox.clear()
    post(mediated, agent, "Thanks, both.")

    assert [name for name, _ in notices(mediated)] == ["seller", "buyer", "seller"]
    assert [message.to for message in mail.outbox] == [[seller.email]]


def test_the_room_hears_a_message_before_anyone_is_told_of_it(mediated, agent, monkeypatch):
    # Notices and emails follow the live update; they must not stand between a message and the room.
    told_when_heard = []
    mail.outbox.clear()
    monkeypatch.setattr(
        realtime, "send_to_group", lambda group, payload: told_when_heard.append((len(mail.outbox), notices(mediated)))
    )

    post(mediated, agent, "Could you both send photos?")

    assert told_when_heard == [(0, [])]
    assert len(notices(mediated)) == 2 and len(mail.outbox) == 2  # then both parties are told


def test_internal_note_tells_no_party(mediated, agent):
    mail.outbox.clear()

    post(mediated, agent, "Seller has 3 similar cases.", internal=True, reread=True)

    assert notices(mediated) == []
    assert mail.outbox == []


@pytest.mark.parametrize(
    "author, internal, reread",
    [("buyer", False, False), ("agent", False, False), ("agent", True, False), ("agent", False, True)],
)
def test_message_over_the_socket_reads_no_person_and_costs_few_queries(
    mediated, buyer, agent, author, internal, reread
):
    """`reread`: the socket has not posted for a few seconds and reads its person again first, as a
    page does: from the cache, which forgets them when they change."""
    person = {"buyer": buyer, "agent": agent}[author]
    permissions.is_agent(mediated, person)  # as at connect: the socket knows the role
    post(mediated, person, "warm-up", reread=reread)  # one buyer write of the case row a minute; the notices
    post(mediated, person, "warm-up 2", reread=reread)  # who is told already, read once and kept

    with CaptureQueriesContext(connection) as queries:
        post(mediated, person, "Counted.", internal=internal, reread=reread)

    sql = [query["sql"] for query in queries.captured_queries]
    assert not [statement for statement in sql if 'FROM "auth_user"' in statement or "auth_permission" in statement]
    # Lock the case, read the ids of the messages before it and store it (BEGIN and COMMIT
    # counted). Nobody new to tell (each reader's unread notice is known from the cache), the
    # broadcast built from the message as stored, and no webhook event for a message: no reads.
    assert len(sql) <= 5, "\n".join(sql)


def test_a_post_after_the_person_lost_the_role_is_refused(mediated, agent):
    post(mediated, agent, "warm-up", internal=True, reread=True)
    agent.groups.clear()

    with pytest.raises(PermissionDenied):
        post(mediated, agent, "Seller has 3 similar cases.", internal=True, reread=True)


def test_an_agents_message_asks_the_cache_once_whom_it_told_already(mediated, agent, monkeypatch):
    permissions.is_agent(mediated, agent)
    post(mediated, agent, "warm-up")  # both parties told, and that kept
    reads = []
    read = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys, **kwargs: reads.append(list(keys)) or read(keys, **kwargs))

    post(mediated, agent, "Counted.")

    asked_of_notices = [keys for keys in reads if any(":notices:" in key for key in keys)]
    assert len(asked_of_notices) == 1, reads  # one round trip for both parties
    assert {key for key in asked_of_notices[0] if key.startswith("cached-version:")} == {
        f"cached-version:notices:{mediated.buyer_id}",
        f"cached-version:notices:{mediated.seller_id}",
    }
    assert len(notices(mediated)) == 2  # and neither told twice


def test_buyer_chatting_writes_their_activity_once_a_minute(mediated, buyer):
    start = timezone.now() + timedelta(hours=1)  # the filing, by the buyer, is long past
    with time_machine.travel(start, tick=False):
        post(mediated, buyer, "First.")
        post(mediated, buyer, "Second, a moment later.")
        assert Case.objects.get(pk=mediated.pk).buyer_last_active_at == start
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        post(mediated, buyer, "Back after two minutes.")
        assert Case.objects.get(pk=mediated.pk).buyer_last_active_at == start + timedelta(minutes=2)
