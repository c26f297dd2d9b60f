"""Journeys through the portal in Chromium, from sign-in to the end state, asserting what people see."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from disputes.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def nav(page, name: str):
    """A link in the site's main navigation."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def action(page, label: str):
    """The "What you can do now" entry whose summary reads `label`, opened."""
    details = page.locator("details.action").filter(has=page.locator("summary", has_text=label))
    expect(details).to_have_count(1)
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def reference_from(page) -> str:
    match = re.search(r"/cases/([^/]+)/$", page.url)
    assert match, f"not on a case page: {page.url}"
    return match.group(1)


def photo(tmp_path):
    path = tmp_path / "cracked-shade.png"
    Image.new("RGB", (64, 48), (200, 40, 40)).save(path, format="PNG")
    return path


def test_buyer_journey_partial_refund_offer_accepted_shows_resolved_to_both(
    order, buyer, seller, sign_in, screenshot, tmp_path
):
    # The buyer reports a problem from their orders, with a photo.
    buyer_page = sign_in(buyer)
    nav(buyer_page, "My orders").click()
    buyer_page.get_by_role("link", name="Report a problem with Walnut desk lamp").click()
    expect(buyer_page.get_by_role("heading", level=1)).to_have_text("Report a problem with an order")
    expect(buyer_page.get_by_label("Order")).to_have_value("ORD-LAMP-1")
    expect(buyer_page.get_by_text("The seller has 3 days to answer.")).to_be_visible()
    buyer_page.get_by_label("Item not as described").check()
    buyer_page.get_by_label("Partial refund", exact=True).check()
    buyer_page.get_by_label("How much are you claiming?").fill("30.00")
    buyer_page.get_by_label("What happened?").fill("The shade arrived cracked down one side.")
    buyer_page.get_by_label("Photos or documents").set_input_files(photo(tmp_path))
    buyer_page.get_by_role("button", name="Open the case").click()

    buyer_page.wait_for_url(re.compile(r"/cases/[^/]+/$"))
    reference = reference_from(buyer_page)
    expect(buyer_page.get_by_role("status")).to_contain_text(f"Case {reference} is open")
    expect(buyer_page.locator("#case-status")).to_have_text("Waiting for the seller")
    evidence_link = buyer_page.get_by_role("link", name="cracked-shade.png")
    expect(evidence_link).to_be_visible()
    served = buyer_page.request.get(evidence_link.get_attribute("href"))
    assert served.status == 200 and served.headers["content-type"] == "image/png"

    # The seller finds it in the resolution center and offers a partial refund.
    seller_page = sign_in(seller)
    nav(seller_page, "Resolution center").click()
    row = seller_page.locator(".case-row").filter(has_text=reference)
    expect(row).to_contain_text("Needs your answer")
    row.get_by_role("link").click()
    expect(seller_page.get_by_role("link", name="cracked-shade.png")).to_be_visible()
    offer = action(seller_page, "Make an offer")
    offer.get_by_label("Partial refund").check()
    offer.get_by_label("Refund amount").fill("20.00")
    offer.get_by_label("Message to the buyer (optional)").fill("Sorry about that: here is part of your money back.")
    offer.locator("button[type=submit]").click()
    expect(seller_page.locator("#case-status")).to_have_text("Waiting for the buyer")

    # The buyer sees the offer and accepts it.
    buyer_page.reload()
    expect(buyer_page.locator("#case-status")).to_have_text("Your answer is needed")
    expect(buyer_page.locator("section.offer")).to_contain_text("Partial refund: 20.00 EUR")
    action(buyer_page, "Accept the offer").locator("button[type=submit]").click()

    expect(buyer_page.locator("#case-status")).to_have_text("Resolved: partial refund")
    expect(buyer_page.locator("#refund-amount")).to_have_text("20.00 EUR")
    expect(buyer_page.get_by_role("heading", name="What you can do now")).to_be_visible()  # the appeal, now
    expect(buyer_page.locator("details.action summary", has_text="Accept the offer")).to_have_count(0)
    screenshot(buyer_page, "buyer")

    seller_page.reload()
    expect(seller_page.locator("#case-status")).to_have_text("Resolved: partial refund")
    expect(seller_page.locator("#refund-amount")).to_have_text("20.00 EUR")
    screenshot(seller_page, "seller")

    case = Case.objects.get(pk=Case.pk_from_reference(reference))
    assert (case.state, str(case.refund_amount), case.evidence.count()) == ("resolved", "20.00", 1)


def test_buyer_journey_seller_declines_then_buyer_asks_the_platform(open_case, buyer, seller, sign_in, screenshot):
    case = open_case

    # Before the seller answers, asking the platform is not possible yet, and the page says from when.
    buyer_page = sign_in(buyer)
    nav(buyer_page, "My cases").click()
    buyer_page.get_by_role("link", name=re.compile(case.reference)).click()
    expect(buyer_page.locator("#case-status")).to_have_text("Waiting for the seller")
    waiting = buyer_page.locator(".action.disabled")
    expect(waiting.get_by_role("button", name="Ask the platform to step in")).to_be_disabled()
    expect(waiting).to_contain_text("You can ask us to step in from")

    # The seller declines the claim.
    seller_page = sign_in(seller)
    seller_page.goto(f"/cases/{case.reference}/")
    decline = action(seller_page, "Decline the claim")
    decline.get_by_label("Anything to add? (optional)").fill("The shade was packed with care.")
    decline.locator("button[type=submit]").click()
    expect(seller_page.locator("#case-status")).to_have_text("Waiting for the buyer")

    # Right away the buyer may ask the platform to step in.
    buyer_page.reload()
    expect(buyer_page.locator(".action.disabled")).to_have_count(0)
    escalate = action(buyer_page, "Ask the platform to step in")
    escalate.get_by_label("Anything to add? (optional)").fill("The crack is plain to see in my photo.")
    escalate.locator("button[type=submit]").click()

    expect(buyer_page.locator("#case-status")).to_have_text("With our team")
    screenshot(buyer_page, "buyer")

    seller_page.reload()
    expect(seller_page.locator("#case-status")).to_have_text("With our team")
    nav(seller_page, "Resolution center").click()
    expect(seller_page.locator(".case-row").filter(has_text=case.reference)).to_contain_text("With our team")
    screenshot(seller_page, "seller")

    assert Case.objects.get(pk=case.pk).state == "escalated"


def test_buyer_journey_another_buyers_case_is_not_found(open_case, order, other_buyer, sign_in, screenshot):
    case = open_case
    snooper_page = sign_in(other_buyer)

    response = snooper_page.goto(f"/cases/{case.reference}/")

    assert response.status == 404
    text = snooper_page.locator("body").inner_text()
    assert "We could not find that page" in text
    for detail in (order.item_title, order.external_id, case.description, "Bea", "Byers", "lampshop", "30.00"):
        assert detail not in text, f"the 404 page shows {detail!r}"
    screenshot(snooper_page, "not-found")

    snooper_page.goto("/cases/")
    expect(snooper_page.get_by_role("main")).to_contain_text("You have not opened any case")
    expect(snooper_page.get_by_role("main")).not_to_contain_text(case.reference)
