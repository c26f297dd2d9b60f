"""Report a problem on a cancelled order: the page offers it, marked, for the one reason the desk
takes on it (a billing problem, such as being charged for it); the other filing rules still hold."""

from datetime import timedelta

import pytest
from django.utils import timezone

from disputes.models import Case, Order
from tests import factories
from tests.disputes.portal.helpers import Page, attr, select, text_of, token

BILLING = {
    "reason": "billing",
    "requested_outcome": "full_refund",
    "amount_claimed": "80.00",
    "description": "The order was cancelled but my card was charged 80 EUR.",
}
ONLY_BILLING = "A cancelled order can only have a billing problem."


def cancelled_order(buyer, seller, *, days_ago=3, item_title="Oak bookshelf") -> Order:
    """An order cancelled before it shipped, placed `days_ago`."""
    return factories.order(
        buyer=buyer,
        seller=seller,
        item_title=item_title,
        status=Order.Status.CANCELLED,
        placed_at=timezone.now() - timedelta(days=days_ago),
        shipped_at=None,
        delivered_days_ago=None,
    )


def options(page: Page) -> dict[str, str]:
    """The order list's choices: order number → the text the buyer reads."""
    return {attr(option, "value"): text_of(option) for option in page.select("option")}


def selected(page: Page) -> list[str]:
    return [attr(option, "value") for option in page.select("option") if "selected" in dict(option.attributes)]


def checked(page: Page, name: str) -> list[str]:
    return [attr(radio, "value") for radio in page.select("input", name=name) if "checked" in dict(radio.attributes)]


def test_case_file_page_offers_a_cancelled_order_marked_and_opens_a_billing_case_on_it(
    client_as, policy, buyer, seller
):
    delivered = factories.order(buyer=buyer, seller=seller, item_title="Desk lamp")
    cancelled = cancelled_order(buyer, seller)
    client = client_as("buyer")

    page = Page(client.get("/cases/new/"))

    choices = options(page)
    assert list(choices) == [cancelled.external_id, delivered.external_id]  # newest first, as for any order
    assert choices[cancelled.external_id].endswith("· cancelled: billing problems only")
    assert "cancelled" not in choices[delivered.external_id]

    response = client.post("/cases/new/", {"submission": token(), "order": cancelled.external_id, **BILLING})

    case = Case.objects.get()
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert (case.order, case.buyer, case.reason, case.state) == (cancelled, buyer, "billing", Case.State.OPEN)
    assert case.description == BILLING["description"]
    assert cancelled.external_id not in options(Page(client.get("/cases/new/")))  # it has its case now


def test_my_orders_links_a_cancelled_order_to_report_a_billing_problem(client_as, policy, buyer, seller):
    cancelled = cancelled_order(buyer, seller)

    page = Page(client_as("buyer").get("/orders/"))

    [row] = page.select("tr", cls="order-row")
    [link] = select(row, "a")
    assert text_of(link).startswith("Report a problem")
    assert attr(link, "href") == f"/cases/new/?order={cancelled.external_id}"


def test_case_file_page_named_from_a_link_for_a_cancelled_order_says_it_takes_a_billing_problem(
    client_as, policy, buyer, seller
):
    factories.order(buyer=buyer, seller=seller, item_title="Desk lamp")
    cancelled = cancelled_order(buyer, seller, days_ago=10)

    page = Page(client_as("buyer").get(f"/cases/new/?order={cancelled.external_id}"))

    assert selected(page) == [cancelled.external_id]
    [aside] = page.select("aside")
    assert "You can open a case on Oak bookshelf until" in text_of(aside)
    assert "This order was cancelled, so a case on it can only be about a billing problem" in text_of(aside)


def test_case_file_of_a_cancelled_order_for_another_reason_says_why_and_keeps_what_was_written(
    client_as, policy, buyer, seller
):
    cancelled = cancelled_order(buyer, seller)
    client = client_as("buyer")
    sent = {**BILLING, "reason": "damaged", "requested_outcome": "partial_refund", "amount_claimed": "35.50"}

    page = Page(client.post("/cases/new/", {"submission": token(), "order": cancelled.external_id, **sent}))

    assert page.response.status_code == 200
    [reason_field] = [field for field in page.select("div", cls="field") if select(field, "input", name="reason")]
    assert [text_of(error) for error in select(reason_field, role="alert")] == [ONLY_BILLING]
    assert page.alerts == [ONLY_BILLING]
    assert not Case.objects.exists() and not Case.history.exists()
    # What the buyer chose and wrote is all still there, to change the reason and send again.
    assert selected(page) == [cancelled.external_id]
    assert checked(page, "reason") == ["damaged"]
    assert checked(page, "requested_outcome") == ["partial_refund"]
    assert attr(page.one("input", name="amount_claimed"), "value") == "35.50"
    assert text_of(page.one("textarea", name="description")) == sent["description"]

    again = {"submission": attr(page.one("input", name="submission"), "value"), "order": cancelled.external_id}
    response = client.post("/cases/new/", {**again, **sent, "reason": "billing"})

    case = Case.objects.get()
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert (case.order, case.reason, str(case.amount_claimed)) == (cancelled, "billing", "35.50")


@pytest.mark.parametrize("how", ["named", "posted"])
def test_case_file_page_does_not_offer_another_buyers_cancelled_order(
    client_as, policy, buyer, seller, other_buyer, how
):
    mine = factories.order(buyer=buyer, seller=seller, item_title="Desk lamp")
    theirs = cancelled_order(other_buyer, seller, item_title="Someone else's bookshelf")
    client = client_as("buyer")

    if how == "named":
        page = Page(client.get(f"/cases/new/?order={theirs.external_id}"))
    else:
        page = Page(client.post("/cases/new/", {"submission": token(), "order": theirs.external_id, **BILLING}))
        assert any("Select a valid choice" in alert for alert in page.alerts)

    assert list(options(page)) == [mine.external_id]
    assert "Someone else's bookshelf" not in page.text
    assert not Case.objects.exists()


def test_case_file_page_leaves_out_a_cancelled_order_past_its_window_or_with_an_open_case(
    client_as, policy, buyer, seller
):
    late = cancelled_order(buyer, seller, days_ago=45)
    disputed = factories.case(order_=cancelled_order(buyer, seller), reason="billing").order
    client = client_as("buyer")

    assert options(Page(client.get("/cases/new/"))) == {}

    for order, refusal in [
        (late, "The time to open a case on this order ended on"),
        (disputed, "This order already has an open case"),
    ]:
        page = Page(client.post("/cases/new/", {"submission": token(), "order": order.external_id, **BILLING}))
        assert page.response.status_code == 200
        assert any(alert.startswith(refusal) for alert in page.alerts), page.alerts
    assert Case.objects.count() == 1
