"""The console's pages (and the party page with a request for evidence) in Chromium at 375 px and
1280 px: no serious or critical axe violation, every field labelled, no sideways scrolling."""

from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from disputes import services
from disputes.models import CannedReply
from disputes.services.conversation import evidence_add, message_post
from tests import factories
from tests.browser.conftest import NARROW, WIDE, outside_playwright_loop
from tests.browser.test_accessibility import BLOCKING_IMPACTS, describe, label_problems, png_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {375: NARROW, 1280: WIDE}


@pytest.fixture
def staff(db):
    with outside_playwright_loop():
        return {
            "agent": factories.agent_user(username="alex", first_name="Alex", last_name="Agenti"),
            "senior": factories.senior_agent_user(username="sue", first_name="Sue", last_name="Senior"),
        }


@pytest.fixture
def console_cases(policy, buyer, seller, staff):
    """Waiting, in mediation with everything on it, and an appeal taken by the senior agent."""
    with outside_playwright_loop():
        agent, senior = staff["agent"], staff["senior"]

        def declined(title):
            case = factories.case(order_=factories.order(buyer=buyer, seller=seller, item_title=title))
            services.case_decline_claim(case=case, seller=seller, note="As described.")
            return services.case_escalate(case=case, buyer=buyer, note="Please look.")

        waiting = declined("Oak side table")
        mediated = declined("Walnut desk lamp")
        services.case_claim(case=mediated, agent=agent)
        evidence_add(case=mediated, uploader=buyer, files=[png_upload()])
        message_post(case=mediated, author=buyer, body="Here is what happened.\nSee the photo.")
        message_post(case=mediated, author=agent, body="Looks genuine.", internal=True)
        due_at = timezone.now() + timedelta(days=2)
        services.evidence_request_create(case=mediated, agent=agent, party=buyer, note="The box.", due_at=due_at)
        services.proposal_make(case=mediated, agent=agent, kind="partial_refund", amount=Decimal("20.00"))
        appealed = declined("Linen shirt")
        services.case_claim(case=appealed, agent=agent)
        services.case_decide(case=appealed, agent=agent, outcome="no_action", amount=None, rationale="Policy 4.")
        services.case_appeal(case=appealed, party=buyer, grounds="Please look again.")
        services.appeal_claim(case=appealed, agent=senior)
        CannedReply.objects.create(title="Taking the case", body="Hello {buyer_name}, I am {agent_name}.")
        return {"waiting": waiting, "mediated": mediated, "appealed": appealed}


# name → (who signs in, the address)
PAGES = {
    "queue": ("agent", lambda c: "/console/"),
    "queue-filtered": ("agent", lambda c: "/console/?state=in_mediation&mine=on&amount_min=lots"),
    "workspace-waiting": ("agent", lambda c: f"/console/cases/{c['waiting'].reference}/"),
    "workspace-assigned": ("agent", lambda c: f"/console/cases/{c['mediated'].reference}/"),
    "workspace-appeal": ("senior", lambda c: f"/console/cases/{c['appealed'].reference}/"),
    "case-with-evidence-request": ("buyer", lambda c: c["mediated"].get_absolute_url()),
}


def open_page(name, width, console_cases, staff, buyer, sign_in):
    who, address = PAGES[name]
    person = buyer if who == "buyer" else staff[who]
    page = sign_in(person, viewport=WIDTHS[width])
    response = page.goto(address(console_cases))
    assert response.ok, f"{name}: {address(console_cases)} answered {response.status}"
    # Audit the forms too: a closed <details> hides them from axe.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    return page


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_console_page_passes_axe_audit(name, width, console_cases, staff, buyer, sign_in, axe, screenshot):
    page = open_page(name, width, console_cases, staff, buyer, sign_in)

    violations = axe.run(page).response["violations"]

    blocking = [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]
    if violations:
        print(f"axe on {name} at {width} px:\n{describe(violations)}")
    screenshot(page, f"{width}")
    assert not blocking, f"{name} at {width} px has serious or critical axe violations:\n{describe(blocking)}"


@pytest.mark.parametrize("name", list(PAGES))
def test_console_page_labels_and_describes_each_field(name, console_cases, staff, buyer, sign_in):
    page = open_page(name, 1280, console_cases, staff, buyer, sign_in)

    problems, dangling, duplicate_ids = label_problems(page)

    assert not problems, f"{name}: fields without exactly one label of their own:\n" + "\n".join(problems)
    assert not dangling, f"{name}: descriptions that point at no element, or at several: {dangling}"
    assert not duplicate_ids, f"{name}: labels point at ids used more than once: {duplicate_ids}"


@pytest.mark.parametrize("name", list(PAGES))
def test_console_page_has_no_horizontal_scroll_at_375(name, console_cases, staff, buyer, sign_in, screenshot):
    page = open_page(name, 375, console_cases, staff, buyer, sign_in)

    scroll_width, viewport_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )

    if scroll_width > viewport_width:
        screenshot(page, "too-wide")
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
                .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""
        )
        pytest.fail(f"{name} scrolls sideways at 375 px: {scroll_width} > {viewport_width}; too wide: {wide}")
