"""What every page's header and the console's availability show stay true when they are cached:
each page is loaded once before the change, so a count kept from it would show."""

import pytest
from django.utils import timezone

from disputes import services
from disputes.notifications import notices_batched, notify_parties
from disputes.services._common import event_for
from disputes.services.conversation import message_post
from tests import factories
from tests.disputes.portal.helpers import Page, select, text_of


def unread_in_header(client) -> str | None:
    page = Page(client.get("/cases/"))
    counts = select(page.one("a", cls="notifications-link"), "span", cls="count")
    return text_of(counts[0]).split()[0] if counts else None


@pytest.fixture
def chatting(open_case, buyer, django_capture_on_commit_callbacks):
    """Post as someone, with the notices written as after a commit."""

    def post(author, body):
        with django_capture_on_commit_callbacks(execute=True):
            message_post(case=open_case, author=author, body=body)

    return post


def test_a_notice_written_after_the_page_was_seen_counts_on_the_next_page(client_as, chatting, buyer):
    seller = client_as("seller")
    assert unread_in_header(seller) is None

    chatting(buyer, "Is anyone there?")

    assert unread_in_header(seller) == "1"


def test_notices_written_together_count_for_each_party(client_as, chatting, agent):
    buyer, seller = client_as("buyer"), client_as("seller")
    assert (unread_in_header(buyer), unread_in_header(seller)) == (None, None)

    chatting(agent, "We are looking into this case.")  # one insert for both parties

    assert (unread_in_header(buyer), unread_in_header(seller)) == ("1", "1")


def test_notices_of_a_batch_of_automatic_steps_count(client_as, open_case):
    seller = client_as("seller")
    assert unread_in_header(seller) is None

    with notices_batched():  # as process_deadlines writes the notices of its steps
        for name in ("escalate_unanswered", "claim"):
            event = event_for(name, open_case, actor=None, from_state="open", at=timezone.now())
            notify_parties(sender=None, event=event)

    assert unread_in_header(seller) == "2"


def test_marking_all_read_clears_the_count_on_every_page(client_as, chatting, buyer):
    seller = client_as("seller")
    chatting(buyer, "Hello?")
    assert unread_in_header(seller) == "1"

    seller.post("/notifications/read/")

    assert unread_in_header(seller) is None


def test_opening_the_case_clears_its_notices_from_the_count(client_as, chatting, buyer, open_case):
    seller = client_as("seller")
    chatting(buyer, "Hello?")
    assert unread_in_header(seller) == "1"

    assert seller.get(open_case.get_absolute_url()).status_code == 200

    assert unread_in_header(seller) is None


def test_a_second_unread_chat_notice_is_not_written_so_the_count_stays(client_as, chatting, buyer):
    seller = client_as("seller")
    chatting(buyer, "Hello?")
    assert unread_in_header(seller) == "1"

    chatting(buyer, "Anyone?")  # told once until read

    assert unread_in_header(seller) == "1"


def availability(client) -> str:
    return text_of(Page(client.get("/console/")).one(id="availability"))


def test_availability_changed_elsewhere_shows_on_the_next_console_page(client_as, agent):
    console = client_as("agent")
    assert "You are away" in availability(console)

    services.agent_set_available(agent=agent, available=True)  # another tab, or the API
    assert "You are available" in availability(console)

    services.agent_set_available(agent=agent, available=False)
    assert "You are away" in availability(console)


def test_one_agents_availability_is_not_anothers(client_as, agent):
    console = client_as("agent")
    assert "You are away" in availability(console)

    services.agent_set_available(agent=factories.agent_user(username="colleague"), available=True)

    assert "You are away" in availability(console)
