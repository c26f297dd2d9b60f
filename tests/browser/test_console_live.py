"""Live over WebSockets, in Chromium against a real ASGI server: the queue, the chat, presence and
state changes reach open pages without a reload."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.asgi_desk import AsgiDesk
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser]

LIVE_MS = 10_000  # a live update arrives in well under a second; the budget covers a slow machine


@pytest.fixture(scope="module")
def asgi_desk():
    with AsgiDesk() as desk:
        yield desk


@pytest.fixture
def person(open_context, asgi_desk):
    """`person(username, **context_options)`: a page in a fresh context on the ASGI desk, signed in."""
    return lambda username, **options: signed_in_page(open_context(asgi_desk.url, **options), username)


def timeline_messages(page):
    return page.locator("ol.timeline li.message")


def test_escalation_reaches_the_agent_live_and_they_settle_it_over_live_chat(asgi_desk, person, screenshot):
    reference = asgi_desk.data["reference"]

    # The agent has the queue open; nothing is waiting yet.
    agent = person(asgi_desk.data["agent"])
    agent.get_by_role("navigation", name="Main").get_by_role("link", name="Console").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Mediation queue")
    expect(agent.locator(f'li[data-reference="{reference}"]')).to_have_count(0)

    # The buyer asks the platform to step in.
    buyer = person(asgi_desk.data["buyer"])
    buyer.goto(f"/cases/{reference}/")
    escalate = buyer.locator("details.action").filter(has=buyer.locator("summary", has_text="Ask the platform"))
    escalate.locator("summary").click()
    escalate.get_by_label("Anything to add? (optional)").fill("The crack is plain to see.")
    escalate.locator("button[type=submit]").click()
    expect(buyer.locator("#case-status")).to_have_text("With our team")

    # It appears in the agent's queue without a reload, and the agent claims it.
    row = agent.locator(f'li[data-reference="{reference}"]')
    expect(row).to_contain_text("Waiting for an agent", timeout=LIVE_MS)
    expect(agent.locator("[data-live-notice]")).to_contain_text("The queue was updated")
    screenshot(agent, "queue")
    row.get_by_role("button", name=f"Claim {reference}").click()
    agent.wait_for_url(f"**/console/cases/{reference}/")
    expect(agent.locator("#case-status")).to_have_text("In mediation")
    expect(agent.locator("#assignee")).to_have_text("Assigned to Alex Agenti (you)")

    # The buyer's open page hears that the case changed.
    expect(buyer.locator("[data-live-notice]")).to_contain_text("This case was updated", timeout=LIVE_MS)

    # A senior agent opens the case too: presence, both ways.
    senior = person(asgi_desk.data["senior"])
    senior.goto(f"/console/cases/{reference}/")
    expect(agent.locator("[data-live-presence]")).to_have_text("Also open by: Sue Senior.", timeout=LIVE_MS)
    expect(senior.locator("[data-live-presence]")).to_have_text("Also open by: Alex Agenti.", timeout=LIVE_MS)

    # The agent writes to both parties over the socket: no page load, the buyer sees it at once.
    workspace_url = agent.url
    agent.get_by_label("Message to the buyer and the seller").fill("Hello Bea, could you send a photo?\n<b>Thanks</b>")
    agent.get_by_role("button", name="Send to both parties").click()
    expect(timeline_messages(buyer).last).to_contain_text("Hello Bea, could you send a photo?", timeout=LIVE_MS)
    expect(timeline_messages(buyer).last).to_contain_text("<b>Thanks</b>")  # text, never markup
    expect(timeline_messages(buyer).last).to_contain_text("Support team · Alex")
    expect(agent.get_by_label("Message to the buyer and the seller")).to_have_value("")
    assert agent.url == workspace_url  # sent over the socket: no form post, no "Message sent" page
    expect(agent.locator("main")).not_to_contain_text("Message sent to both parties.")

    # The buyer answers live.
    buyer.get_by_label("Your message").fill("Here it is: the shade is cracked.")
    buyer.get_by_role("button", name="Send message").click()
    expect(timeline_messages(agent).last).to_contain_text("Here it is: the shade is cracked.", timeout=LIVE_MS)
    expect(timeline_messages(agent).last).to_contain_text("Buyer · Bea Byers")
    expect(timeline_messages(senior).last).to_contain_text("Here it is: the shade is cracked.", timeout=LIVE_MS)

    # An internal note reaches the agents, never the buyer.
    agent.get_by_label("Internal note (agents only)").fill("Photo is convincing.")
    agent.get_by_role("button", name="Save the note").click()
    expect(senior.locator("ol.timeline li.internal").last).to_contain_text("Photo is convincing.", timeout=LIVE_MS)
    buyer.get_by_label("Your message").fill("Anything else you need?")
    buyer.get_by_role("button", name="Send message").click()
    expect(timeline_messages(agent).last).to_contain_text("Anything else you need?", timeout=LIVE_MS)
    expect(buyer.locator("ol.timeline")).not_to_contain_text("Photo is convincing.")
    screenshot(buyer, "buyer-chat")

    # The agent decides; the buyer's page shows the new state live, and the outcome after a reload.
    decide = agent.locator("details.action").filter(has=agent.locator("summary", has_text="Decide (binding)"))
    decide.locator("summary").click()
    decide.get_by_label("Partial refund").check()
    decide.get_by_label("Refund amount").fill("20.00")
    decide.get_by_label("Rationale").fill("Disputes policy 4.2: the crack shows in the buyer's photo.")
    decide.get_by_role("button", name="Decide").click()
    expect(agent.locator("#case-status")).to_have_text("Resolved")

    expect(buyer.locator("#case-status")).to_have_text("Resolved: partial refund", timeout=LIVE_MS)
    buyer.locator("[data-live-notice]").get_by_role("button", name="Reload").click()
    expect(buyer.locator("#refund-amount")).to_have_text("20.00 EUR")
    expect(buyer.locator("body")).not_to_contain_text("Photo is convincing.")
    screenshot(buyer, "buyer-outcome")


class DroppingProxy:
    """Stands between a page and its case socket (Playwright's WebSocket routing): can lose one
    server frame on the way, as a full channel layer would, or cut the connection."""

    def __init__(self, context):
        self.drop_body = None
        self.dropped = []
        self.routes = []
        context.route_web_socket(re.compile(r"/ws/cases/"), self.handle)

    def handle(self, route):
        server = route.connect_to_server()
        self.routes.append(route)

        def forward(message):
            frame = json.loads(message)
            if frame.get("type") == "message" and frame.get("body") == self.drop_body:
                self.drop_body = None
                self.dropped.append(frame["id"])
                return
            route.send(message)

        server.on_message(forward)

    def cut(self):
        self.routes[-1].close(code=1011, reason="test cuts the line")


def send_from_workspace(agent_page, body):
    agent_page.get_by_label("Message to the buyer and the seller").fill(body)
    agent_page.get_by_role("button", name="Send to both parties").click()
    expect(agent_page.get_by_label("Message to the buyer and the seller")).to_have_value("", timeout=LIVE_MS)


def test_a_lost_frame_and_a_dropped_connection_are_caught_up_by_message_id(asgi_desk, person):
    reference = asgi_desk.data["reference"]
    seller = person(asgi_desk.data["seller"])
    proxy = DroppingProxy(seller.context)
    seller.goto(f"/cases/{reference}/")
    expect(seller.locator("[data-live-notice]")).to_be_empty()
    agent = person(asgi_desk.data["agent"])
    agent.goto(f"/console/cases/{reference}/")

    # The layer loses one frame: the next one names a previous message the page never saw, so it
    # asks for everything after the last one it has, and shows both, in order.
    proxy.drop_body = "First, which the layer loses."
    send_from_workspace(agent, "First, which the layer loses.")
    send_from_workspace(agent, "Second, which arrives.")
    expect(timeline_messages(seller).last).to_contain_text("Second, which arrives.", timeout=LIVE_MS)
    assert proxy.dropped, "the proxy did not see the frame it was to lose"
    bodies = timeline_messages(seller).locator(".message-body").all_inner_texts()
    assert bodies[-2:] == ["First, which the layer loses.", "Second, which arrives."]

    # The connection drops; what is said meanwhile arrives when the page reconnects (after=<last id>).
    proxy.cut()
    expect(seller.locator("[data-live-notice]")).to_contain_text("reconnecting", timeout=LIVE_MS)
    send_from_workspace(agent, "Third, while the seller was away.")
    expect(timeline_messages(seller).last).to_contain_text("Third, while the seller was away.", timeout=LIVE_MS)
    expect(seller.locator("[data-live-notice]")).to_be_empty()
    assert len(proxy.routes) == 2
    ids = [
        int(value) for value in timeline_messages(seller).evaluate_all("items => items.map(i => i.dataset.messageId)")
    ]
    assert ids == sorted(set(ids)), f"messages out of order or twice: {ids}"


@pytest.mark.django_db(transaction=True)
def test_chat_form_posts_as_a_plain_form_when_there_is_no_socket(open_case, seller, sign_in):
    """pytest-django's live server speaks no WebSocket: the page says live updates are paused,
    and the message form posts as it does without JavaScript."""
    page = sign_in(seller)
    page.goto(open_case.get_absolute_url())
    expect(page.locator("[data-live-notice]")).to_contain_text("Live updates paused", timeout=LIVE_MS)

    page.get_by_label("Your message").fill("Sent the normal way.")
    page.get_by_role("button", name="Send message").click()

    expect(page.get_by_role("status")).to_contain_text("Message sent.")
    expect(timeline_messages(page).last).to_contain_text("Sent the normal way.")
