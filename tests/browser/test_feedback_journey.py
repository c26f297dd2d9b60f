"""After a case is resolved the buyer rates the seller and our handling; the seller's score changes."""

import pytest
from playwright.sync_api import expect

from disputes import services
from feedback.models import SurveyResponse, TradeFeedback
from tests.browser.conftest import outside_playwright_loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_feedback_journey_buyer_rates_seller_and_handling_and_the_score_changes(open_case, buyer, seller, sign_in):
    with outside_playwright_loop():
        services.case_accept_claim(case=open_case, seller=seller)

    seller_page = sign_in(seller)
    seller_page.goto("/seller/")
    expect(seller_page.locator("#feedback-score")).to_contain_text("No trade feedback yet")

    page = sign_in(buyer)
    page.goto(open_case.get_absolute_url())
    feedback = page.get_by_role("region", name="Your feedback on this order")
    feedback.get_by_label("Positive").check()
    feedback.get_by_label("A short comment (optional)").fill("Refunded quickly, thanks.")
    feedback.get_by_role("button", name="Leave feedback").click()
    expect(page.get_by_role("status")).to_contain_text("your feedback is recorded")
    expect(page.locator("#feedback-given")).to_contain_text("positive")

    survey = page.get_by_role("region", name="Rate how we handled this case")
    survey.get_by_label("5 · Very well").check()
    survey.get_by_role("button", name="Send rating").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you for rating")

    seller_page.reload()
    expect(seller_page.locator("#feedback-score")).to_contain_text("100.0% positive")
    expect(seller_page.locator("#feedback-score")).to_contain_text("1 positive, 0 neutral, 0 negative")
    with outside_playwright_loop():
        assert TradeFeedback.objects.get().recipient_id == seller.pk
        assert SurveyResponse.objects.get().score == 5
