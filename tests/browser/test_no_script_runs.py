"""Script in user text never runs, in Chromium against a real ASGI server: a case filed and messages
sent with markup that would set `window.__pwned` or open a dialog, read by the buyer, the seller and
an agent, whether the page rendered them or live chat delivered them over the socket."""

import json
import re
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.asgi_desk import AsgiDesk
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser]

LIVE_MS = 10_000
ORDER = "ORD-XSS-1"
PAYLOADS = [
    '<img src=x onerror="window.__pwned=1;alert(1)">',
    "<script>window.__pwned=2;alert(2)</script>",
    '"><svg/onload="window.__pwned=3;confirm(3)">',
    "</textarea><script>window.__pwned=4</script>",
    '<a href="javascript:window.__pwned=5">x</a>\u202e',
]


def seed_order() -> dict:
    """Run in the server's environment: another delivered order of the buyer's, with no case yet."""
    from django.contrib.auth import get_user_model

    from tests import factories

    users = get_user_model().objects
    order = factories.order(
        buyer=users.get(username="bea"), seller=users.get(username="lampshop"), external_id=ORDER, delivered_days_ago=1
    )
    return {"order": order.external_id}


@pytest.fixture(scope="module")
def asgi_desk():
    with AsgiDesk() as desk:
        code = "import django; django.setup(); import json; from tests.browser.test_no_script_runs import seed_order; "
        code += "print(json.dumps(seed_order()))"
        desk.data.update(json.loads(desk._run([sys.executable, "-c", code]).splitlines()[-1]))
        yield desk


@pytest.fixture
def person(open_context, asgi_desk):
    """`person(username)`: a signed-in page that records every dialog anything tries to open."""

    def sign_in(username):
        context = open_context(asgi_desk.url)
        dialogs = []

        def record(dialog):
            dialogs.append(dialog.message)
            dialog.dismiss()

        context.on("dialog", record)
        page = signed_in_page(context, username)
        page.dialogs = dialogs
        return page

    return sign_in


def assert_nothing_ran(page) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined", f"script ran on {page.url}"
    assert page.dialogs == [], f"a dialog opened on {page.url}: {page.dialogs}"
    injected = "ol.timeline img, ol.timeline svg, ol.timeline script, ol.timeline a[href^=javascript]"
    assert page.locator(injected).count() == 0


def send_message(page, text: str) -> None:
    form = page.locator("form[data-live-compose]").first
    form.locator("textarea").fill(text)
    form.locator("button[type=submit]").click()


def test_markup_in_a_case_and_its_messages_never_runs_for_buyer_seller_or_agent(asgi_desk, person, screenshot):
    # The buyer files a case whose description is markup.
    buyer = person(asgi_desk.data["buyer"])
    buyer.goto(f"/cases/new/?order={asgi_desk.data['order']}")
    buyer.get_by_label("Item not as described").check()
    buyer.get_by_label("Partial refund", exact=True).check()
    buyer.get_by_label("How much are you claiming?").fill("10.00")
    buyer.get_by_label("What happened?").fill(" ".join(PAYLOADS))
    buyer.get_by_role("button", name="Open the case").click()
    buyer.wait_for_url(re.compile(r"/cases/MS-[0-9]+/$"))
    reference = buyer.url.rstrip("/").rsplit("/", 1)[-1]
    expect(buyer.get_by_text(PAYLOADS[0], exact=False).first).to_be_visible()
    assert_nothing_ran(buyer)

    # The buyer's message goes over the socket and comes back into the open page through live-case.js.
    send_message(buyer, PAYLOADS[1])
    expect(buyer.locator("ol.timeline li.message").last).to_contain_text(PAYLOADS[1], timeout=LIVE_MS)
    assert_nothing_ran(buyer)

    # The agent has the workspace open while the seller and the buyer write.
    agent = person(asgi_desk.data["agent"])
    agent.goto(f"/console/cases/{reference}/")
    expect(agent.locator("ol.timeline li.message").last).to_contain_text(PAYLOADS[1])
    seller = person(asgi_desk.data["seller"])
    seller.goto(f"/cases/{reference}/")
    send_message(seller, PAYLOADS[2])
    send_message(buyer, PAYLOADS[3] + "\n" + PAYLOADS[4])
    for page in (agent, seller, buyer):  # delivered live, without a reload
        expect(page.locator("ol.timeline li.message").filter(has_text=PAYLOADS[2])).to_have_count(1, timeout=LIVE_MS)
        expect(page.locator("ol.timeline li.message").filter(has_text=PAYLOADS[3])).to_have_count(1, timeout=LIVE_MS)
        assert_nothing_ran(page)
    screenshot(agent, "workspace-live")

    # And rendered by the server on a fresh load, for each of them.
    case_pages = (
        (buyer, f"/cases/{reference}/"),
        (seller, f"/cases/{reference}/"),
        (agent, f"/console/cases/{reference}/"),
    )
    for page, path in case_pages:
        page.goto(path)
        expect(page.locator("ol.timeline li.message")).to_have_count(3)
        expect(page.get_by_text(PAYLOADS[2], exact=False).first).to_be_visible()
        assert_nothing_ran(page)
    lists = ((buyer, "/cases/"), (seller, "/seller/"), (buyer, "/notifications/"), (seller, "/notifications/"))
    for page, path in lists:
        page.goto(path)
        assert page.evaluate("typeof window.__pwned") == "undefined" and page.dialogs == [], path
