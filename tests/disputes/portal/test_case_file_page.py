"""The "Report a problem" page's order list: the orders a case can be opened on now, newest first
and capped, while an order named from My orders (or in a POST) is still taken."""

from datetime import timedelta

import pytest
from django.utils import timezone

from disputes.models import Case, Order
from disputes.views.portal import FILING_ORDERS_OFFERED
from tests import factories
from tests.disputes.portal.helpers import FILING, Page, attr, text_of, token


def offered(page: Page) -> list[str]:
    """The order numbers the order list offers, in order."""
    return [attr(option, "value") for option in page.select("option")]


def selected(page: Page) -> list[str]:
    return [attr(option, "value") for option in page.select("option") if "selected" in dict(option.attributes)]


def orders_placed(buyer, seller, count) -> list[Order]:
    """`count` orders a case can be opened on, a minute apart, newest first."""
    week_ago = timezone.now() - timedelta(days=7)
    return [
        factories.order(buyer=buyer, seller=seller, item_title=f"Item {n}", placed_at=week_ago - timedelta(minutes=n))
        for n in range(count)
    ]


def test_case_file_page_offers_only_orders_a_case_can_be_opened_on_newest_first(
    client_as, policy, buyer, seller, other_buyer
):
    newer, older = orders_placed(buyer, seller, 2)
    factories.order(buyer=buyer, seller=seller, item_title="Late lamp", delivered_days_ago=31)
    factories.case(order_=factories.order(buyer=buyer, seller=seller, item_title="Disputed lamp"))
    factories.order(buyer=other_buyer, seller=seller, item_title="Someone else's lamp")

    page = Page(client_as("buyer").get("/cases/new/"))

    assert page.response.status_code == 200
    assert offered(page) == [newer.external_id, older.external_id]
    assert f"You can open a case on {newer.item_title} until" in page.text
    for title in ["Late lamp", "Disputed lamp", "Someone else's lamp"]:
        assert title not in page.text


def test_case_file_page_offers_only_the_newest_eligible_orders(client_as, policy, buyer, seller):
    orders = orders_placed(buyer, seller, FILING_ORDERS_OFFERED + 2)

    page = Page(client_as("buyer").get("/cases/new/"))

    assert offered(page) == [order.external_id for order in orders[:FILING_ORDERS_OFFERED]]
    assert f"up to the {FILING_ORDERS_OFFERED} newest" in page.text


def test_case_file_page_takes_an_order_named_from_my_orders_beyond_the_list(client_as, policy, buyer, seller):
    orders = orders_placed(buyer, seller, FILING_ORDERS_OFFERED + 1)
    oldest = orders[-1]
    client = client_as("buyer")

    page = Page(client.get(f"/cases/new/?order={oldest.external_id}"))

    assert offered(page)[0] == oldest.external_id and len(offered(page)) == FILING_ORDERS_OFFERED + 1
    assert selected(page) == [oldest.external_id]
    assert f"You can open a case on {oldest.item_title} until" in page.text

    response = client.post("/cases/new/", {"submission": token(), "order": oldest.external_id, **FILING})

    case = Case.objects.get()
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert case.order == oldest and case.buyer == buyer


def test_case_file_sent_with_a_mistake_keeps_the_order_named_beyond_the_list(client_as, policy, buyer, seller):
    oldest = orders_placed(buyer, seller, FILING_ORDERS_OFFERED + 1)[-1]

    page = Page(
        client_as("buyer").post(
            "/cases/new/", {"submission": token(), "order": oldest.external_id, **FILING, "description": ""}
        )
    )

    assert page.response.status_code == 200
    assert "This field is required." in page.alerts
    assert selected(page) == [oldest.external_id]
    assert f"You can open a case on {oldest.item_title} until" in page.text
    assert not Case.objects.exists()


def test_case_file_of_an_order_from_the_list_opens_the_case(client_as, policy, buyer, seller):
    newer, older = orders_placed(buyer, seller, 2)
    client = client_as("buyer")
    assert offered(Page(client.get("/cases/new/"))) == [newer.external_id, older.external_id]

    response = client.post("/cases/new/", {"submission": token(), "order": older.external_id, **FILING})

    case = Case.objects.get()
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert case.order == older
    assert offered(Page(client.get("/cases/new/"))) == [newer.external_id]  # it has its case now


def test_case_file_page_for_an_order_past_its_window_shows_it_and_when_it_closed(client_as, policy, buyer, seller):
    late = factories.order(buyer=buyer, seller=seller, item_title="Late lamp", delivered_days_ago=31)

    page = Page(client_as("buyer").get(f"/cases/new/?order={late.external_id}"))

    assert offered(page) == [late.external_id] and selected(page) == [late.external_id]
    assert "The time to open a case on Late lamp ended" in page.text


@pytest.mark.parametrize("how", ["named", "posted"])
def test_case_file_page_refuses_another_buyers_order_among_many(client_as, policy, buyer, seller, other_buyer, how):
    orders_placed(buyer, seller, FILING_ORDERS_OFFERED + 1)
    theirs = factories.order(buyer=other_buyer, seller=seller, item_title="Someone else's lamp")
    client = client_as("buyer")

    if how == "named":
        page = Page(client.get(f"/cases/new/?order={theirs.external_id}"))
    else:
        page = Page(client.post("/cases/new/", {"submission": token(), "order": theirs.external_id, **FILING}))
        assert any("Select a valid choice" in alert for alert in page.alerts)

    assert theirs.external_id not in offered(page)
    assert len(offered(page)) == FILING_ORDERS_OFFERED
    assert "Someone else's lamp" not in page.text
    assert not Case.objects.exists()


def test_case_file_page_without_an_order_to_open_a_case_on_says_so(client_as, policy, buyer, seller):
    factories.order(buyer=buyer, seller=seller, item_title="Late lamp", delivered_days_ago=31)

    page = Page(client_as("buyer").get("/cases/new/"))

    assert offered(page) == []
    assert "You have no orders to open a case on right now." in page.text
    assert "Late lamp" not in page.text
    [aside] = page.select("aside")
    assert "My orders" in text_of(aside)


@pytest.mark.parametrize("url", ["/cases/new/", "/cases/new/?order={order}"])
def test_case_file_page_without_a_policy_in_force_says_no_case_can_be_opened(client_as, buyer, seller, url):
    order = factories.order(buyer=buyer, seller=seller, item_title="Desk lamp")

    page = Page(client_as("buyer").get(url.format(order=order.external_id)))

    assert page.response.status_code == 200
    assert "No dispute policy is in force right now, so no case can be opened." in page.text
    assert "You have no orders to open a case on" not in page.text
    assert page.select("select") == [] and page.select("textarea") == []  # no form to fill in for nothing
    assert "Open the case" not in page.text


def test_case_file_sent_without_a_policy_in_force_is_refused_and_keeps_what_was_written(client_as, buyer, seller):
    order = factories.order(buyer=buyer, seller=seller, item_title="Desk lamp")

    page = Page(client_as("buyer").post("/cases/new/", {"submission": token(), "order": order.external_id, **FILING}))

    assert "No dispute policy is in force, so no case can be opened right now." in page.alerts
    assert text_of(page.one("textarea")) == FILING["description"]
    assert selected(page) == [order.external_id]
    assert "No dispute policy is in force right now, so no case can be opened." in page.text
    assert not Case.objects.exists()
