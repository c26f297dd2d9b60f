"""The Content-Security-Policy in a real browser: the main pages of a buyer, a seller, an agent and
an admin load under it with no violation, and their scripts still work (the live chat connects
over the same host's WebSocket, Swagger UI renders the API docs)."""

import json
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.asgi_desk import PROJECT_ROOT, AsgiDesk
from tests.browser.conftest import PASSWORD, TIMEOUT_MS, WIDE

pytestmark = [pytest.mark.browser]

LIVE_MS = 10_000

# Runs before any page script; the policy does not apply to scripts the browser itself injects.
LISTEN_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline")
    + " at " + (event.sourceFile || location.pathname) + ":" + event.lineNumber);
});
"""


@pytest.fixture(scope="module")
def asgi_desk():
    with AsgiDesk() as desk:
        make_admin = (
            "import django; django.setup(); from tests import factories; "
            "factories.UserFactory(username='root', first_name='Ada', is_staff=True, is_superuser=True)"
        )
        subprocess.run(
            [sys.executable, "-c", make_admin], cwd=PROJECT_ROOT, env=desk.env, check=True, capture_output=True, timeout=60
        )
        yield desk


class Watched:
    """A signed-in page whose every CSP violation (event or console report) is kept."""

    def __init__(self, page):
        self.page = page
        self.console = []
        page.on("console", self._console)

    def _console(self, message):
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console.append(message.text)

    def visit(self, path: str):
        response = self.page.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        assert "default-src 'self'" in response.headers["content-security-policy"]
        self.page.wait_for_load_state("load")
        self.assert_no_violation(path)

    def assert_no_violation(self, where: str):
        violations = self.page.evaluate("window.__cspViolations || []")
        assert violations == [], f"{where}: {violations}"
        assert self.console == [], f"{where}: {self.console}"


@pytest.fixture
def person(chromium, asgi_desk):
    contexts = []

    def sign_in(username, *, admin=False):
        context = chromium.new_context(base_url=asgi_desk.url, timezone_id="Europe/Amsterdam", viewport=WIDE)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(LISTEN_FOR_VIOLATIONS)
        contexts.append(context)
        watched = Watched(context.new_page())
        page = watched.page
        watched.visit("/admin/login/" if admin else "/accounts/login/")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[type=submit], button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/admin/$" if admin else r"/$"))
        watched.assert_no_violation("after signing in")
        return watched

    yield sign_in
    for context in contexts:
        context.close()


def test_buyer_seller_and_agent_pages_run_under_the_policy_and_chat_live(asgi_desk, person):
    reference = asgi_desk.data["reference"]
    case_page = f"/cases/{reference}/"

    buyer = person(asgi_desk.data["buyer"])
    for path in ["/", "/orders/", "/cases/", "/cases/new/", "/notifications/", "/account/", "/policies/", case_page]:
        buyer.visit(path)
    # desk.js ran: it told the server the browser's time zone.
    assert "tz=Europe%2FAmsterdam" in buyer.page.evaluate("document.cookie")

    seller = person(asgi_desk.data["seller"])
    for path in ["/seller/", case_page]:
        seller.visit(path)

    agent = person(asgi_desk.data["agent"])
    for path in ["/console/", "/console/reports/", f"/console/cases/{reference}/"]:
        agent.visit(path)

    # The chat goes over the same host's WebSocket (connect-src 'self'): a message from the buyer's
    # page reaches the agent's workspace and the seller's page without a reload.
    buyer.page.get_by_label("Your message").fill("Sent under a strict policy.")
    buyer.page.get_by_role("button", name="Send message").click()
    expect(buyer.page.get_by_label("Your message")).to_have_value("", timeout=LIVE_MS)
    for other in (agent, seller):
        last = other.page.locator("ol.timeline li.message").last
        expect(last).to_contain_text("Sent under a strict policy.", timeout=LIVE_MS)
    assert buyer.page.url.endswith(case_page)  # sent over the socket, not by posting the form
    for watched in (buyer, seller, agent):
        watched.assert_no_violation("after the live chat")


def test_admin_pages_and_the_api_docs_run_under_the_policy(asgi_desk, person):
    admin = person("root", admin=True)
    for path in ["/admin/", "/admin/auth/user/add/", "/admin/policies/policy/", "/admin/disputes/case/"]:
        admin.visit(path)
    # The seeded case: its change page (with the transition buttons) and its history.
    admin.page.locator("#result_list tbody a").first.click()
    expect(admin.page.locator("#content h1, #content h2").first).to_be_visible()
    admin.assert_no_violation("the case's change page")
    admin.page.get_by_role("link", name="History").click()
    admin.page.wait_for_url(re.compile(r"/history/$"))
    admin.assert_no_violation("the case's history")

    admin.visit("/api/docs/")
    # Swagger UI's start-up script comes from ?script= and draws the operations from the schema.
    expect(admin.page.locator(".opblock").first).to_be_visible(timeout=LIVE_MS)
    expect(admin.page.locator("#swagger-ui")).to_contain_text("Marketplace Support Desk API")
    admin.assert_no_violation("/api/docs/ after Swagger UI rendered")


def test_a_violation_would_be_caught(asgi_desk, person):
    """The watch itself works: an inline script the page tries to add is blocked and reported."""
    buyer = person(asgi_desk.data["buyer"])
    buyer.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = true'; "
        "document.body.appendChild(s); }"
    )
    buyer.page.wait_for_function("window.__cspViolations.length > 0")
    assert buyer.page.evaluate("window.ran === undefined")
    assert "script-src" in json.dumps(buyer.page.evaluate("window.__cspViolations"))
