"""Each main page in Chromium at 375 px and 1280 px wide: an axe-core audit with no serious or
critical violation, no horizontal scrolling on a phone, and keyboard use with a visible focus."""

import io
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from disputes import services
from disputes.models import Case
from tests import factories
from tests.browser.conftest import NARROW, WIDE, outside_playwright_loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING_IMPACTS = {"serious", "critical"}
WIDTHS = {375: NARROW, 1280: WIDE}


@dataclass
class Desk:
    """A small marketplace: a buyer with a case waiting for the seller and one waiting for them."""

    buyer: object
    seller: object
    free_order: object  # no case yet: the filing form's order
    open_case: Case  # the seller's turn
    offered_case: Case  # the buyer's turn: a partial refund is on the table


def png_upload(name="shade.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 90, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def desk(policy, buyer, seller) -> Desk:
    with outside_playwright_loop():
        return _desk(buyer, seller)


def _desk(buyer, seller) -> Desk:
    free_order = factories.order(buyer=buyer, seller=seller, external_id="ORD-FREE-1", item_title="Oak side table")
    open_case = services.case_file(
        buyer=buyer, order=factories.order(buyer=buyer, seller=seller, external_id="ORD-OPEN-1"),
        reason="damaged", requested_outcome="partial_refund", amount_claimed=Decimal("30.00"),
        description="The shade arrived cracked.\nSee the photo: https://example.com/<b>not a link</b>",
        evidence=[png_upload()],
    )
    offered_case = factories.case(order_=factories.order(
        buyer=buyer, seller=seller, external_id="ORD-OFFER-1", item_title="Linen cushion cover"))
    services.offer_make(case=offered_case, seller=seller, kind="partial_refund", amount=Decimal("12.50"),
                        note="Half back, sorry.")
    return Desk(buyer, seller, free_order, open_case, offered_case)


def submit_empty(page):
    page.get_by_role("button", name="Open the case").click()
    expect(page.locator(".field.has-error").first).to_be_visible()


# name → (who signs in: None, "buyer" or "seller"; the address; what to do on the page first)
PAGES = {
    "login": (None, lambda d: "/accounts/login/", None),
    "home": ("buyer", lambda d: "/", None),
    "orders": ("buyer", lambda d: "/orders/", None),
    "my-cases": ("buyer", lambda d: "/cases/", None),
    "filing-form": ("buyer", lambda d: f"/cases/new/?order={d.free_order.external_id}", None),
    "filing-form-errors": ("buyer", lambda d: f"/cases/new/?order={d.free_order.external_id}", submit_empty),
    "case-buyer": ("buyer", lambda d: d.offered_case.get_absolute_url(), "open-actions"),
    "case-seller": ("seller", lambda d: d.open_case.get_absolute_url(), "open-actions"),
    "resolution-center": ("seller", lambda d: "/seller/", None),
    "notifications": ("buyer", lambda d: "/notifications/", None),
    "account": ("buyer", lambda d: "/account/", None),
    "policies": (None, lambda d: "/policies/", None),
    "policy": (None, lambda d: "/policies/disputes/", None),
}


def open_page(name, width, desk, new_context, sign_in):
    who, address, prepare = PAGES[name]
    options = {"viewport": WIDTHS[width]}
    page = sign_in(getattr(desk, who), **options) if who else new_context(**options).new_page()
    response = page.goto(address(desk))
    assert response.ok, f"{name}: {address(desk)} answered {response.status}"
    if prepare == "open-actions":
        # Audit the action forms too: a closed <details> hides them from axe.
        actions = page.locator("details.action")
        assert actions.count() > 0, f"{name}: no actions to audit"
        page.evaluate("document.querySelectorAll('details.action').forEach(d => { d.open = true; })")
    elif prepare:
        prepare(page)
    return page


def describe(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


def label_problems(page) -> tuple[list[str], list[str], list[str]]:
    """Fields without exactly one label of their own, descriptions that point at no element (or
    at several), and labels pointing at ids used more than once."""
    problems = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), textarea, select')].flatMap(e => {
            const own = [...e.labels].map(l => l.textContent.trim().replace(/\\s+/g, ' '));
            const claimed = e.id ? document.querySelectorAll(`label[for="${CSS.escape(e.id)}"]`).length : 0;
            const where = `${e.tagName.toLowerCase()}[name=${e.name}] in "${e.form?.getAttribute('action') || ''}"`;
            if (own.length !== 1) return [`${where} has ${own.length} labels: ${JSON.stringify(own)}`];
            if (claimed > 1) return [`${where}: ${claimed} labels point at its id ${e.id}`];
            return [];
        })"""
    )
    dangling = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby], [aria-labelledby]')].flatMap(e =>
            ['aria-describedby', 'aria-labelledby'].flatMap(attribute => (e.getAttribute(attribute) || '')
                .split(/\\s+/).filter(Boolean)
                .filter(id => document.querySelectorAll(`[id="${CSS.escape(id)}"]`).length !== 1)
                .map(id => `${e.tagName.toLowerCase()}[name=${e.name || ''}] ${attribute}=${id}`)))"""
    )
    duplicate_ids = page.evaluate(
        """() => [...document.querySelectorAll('label[for]')].map(l => l.htmlFor)
                  .filter(id => document.querySelectorAll(`[id="${CSS.escape(id)}"]`).length > 1)"""
    )
    return problems, dangling, duplicate_ids


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_passes_axe_audit(name, width, desk, new_context, sign_in, axe, screenshot):
    page = open_page(name, width, desk, new_context, sign_in)

    violations = axe.run(page).response["violations"]

    blocking = [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]
    if violations:
        print(f"axe on {name} at {width} px:\n{describe(violations)}")
    if blocking:
        screenshot(page, "axe")
    assert not blocking, f"{name} at {width} px has serious or critical axe violations:\n{describe(blocking)}"


PAGES_WITH_FORMS = ["login", "filing-form", "filing-form-errors", "case-buyer", "case-seller", "account"]


@pytest.mark.parametrize("name", PAGES_WITH_FORMS)
def test_page_labels_and_describes_each_field(name, desk, new_context, sign_in):
    """axe passes a field whose `label for=` id also names another field, and (as "needs review")
    an error message the field's aria-describedby does not reach; a screen reader user does not.
    With several forms on one page (the case page's actions), each control needs its own label."""
    page = open_page(name, 1280, desk, new_context, sign_in)

    problems, dangling, duplicate_ids = label_problems(page)

    assert not problems, f"{name}: fields without exactly one label of their own:\n" + "\n".join(problems)
    assert not dangling, f"{name}: descriptions that point at no element, or at several: {dangling}"
    assert not duplicate_ids, f"{name}: labels point at ids used more than once: {duplicate_ids}"


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_horizontal_scroll_at_375(name, desk, new_context, sign_in, screenshot):
    page = open_page(name, 375, desk, new_context, sign_in)

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


def test_filing_form_by_keyboard_alone(desk, sign_in, screenshot):
    page = sign_in(desk.buyer)
    page.goto(f"/cases/new/?order={desk.free_order.external_id}")

    def focused():
        return page.evaluate(
            "(() => { const e = document.activeElement;"
            " return [e.tagName.toLowerCase(), e.name || '', e.type || '', (e.textContent || '').trim()]; })()"
        )

    for _ in range(30):  # past the skip link and the navigation, to the first field
        page.keyboard.press("Tab")
        if focused()[1] == "order":
            break
    else:
        pytest.fail(f"Tab never reached the order field; focus ended on {focused()}")

    page.keyboard.press("Tab")
    assert focused()[:3] == ["input", "reason", "radio"]
    page.keyboard.press("Space")  # the first reason: not received
    page.keyboard.press("Tab")
    assert focused()[:3] == ["input", "requested_outcome", "radio"]
    page.keyboard.press("Space")  # the first remedy: full refund
    page.keyboard.press("Tab")
    assert focused()[1] == "amount_claimed"
    page.keyboard.type("80")
    page.keyboard.press("Tab")
    assert focused()[:2] == ["textarea", "description"]
    page.keyboard.type("It never came, and the tracking stopped a week ago.")
    page.keyboard.press("Tab")
    assert focused()[:3] == ["input", "evidence", "file"]
    page.keyboard.press("Tab")
    assert focused()[0] == "button" and focused()[3] == "Open the case"
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/cases/[^/]+/$"))
    expect(page.locator("#case-status")).to_have_text("Waiting for the seller")
    expect(page.get_by_role("heading", level=1)).to_have_text("Oak side table")
    expect(page.get_by_role("region", name="The claim")).to_contain_text("Full refund, 80.00 EUR")
    screenshot(page, "filed")


def test_keyboard_focus_is_visible_on_links(desk, sign_in):
    page = sign_in(desk.buyer)
    page.goto("/orders/")

    seen = []
    for _ in range(4):  # the skip link, the brand, then the navigation
        page.keyboard.press("Tab")
        tag, text, style, width, left, top = page.evaluate(
            "(() => { const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();"
            " return [e.tagName.toLowerCase(), e.textContent.trim(), s.outlineStyle, s.outlineWidth,"
            " r.left, r.top]; })()"
        )
        seen.append((tag, text, style, width))
        assert tag == "a", f"expected a link to take the focus, got {seen}"
        assert style != "none" and width != "0px", f"no visible focus on the link {text!r}: {style} {width}"
        assert left >= 0 and top >= 0, f"the focused link {text!r} is off screen at ({left}, {top})"
    assert seen[0][1] == "Skip to content"
