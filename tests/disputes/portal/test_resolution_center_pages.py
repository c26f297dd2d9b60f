"""The seller's resolution center a page at a time: every case once, those needing an answer
first, by cursor; the tab shown stays on every page; a broken cursor shows the first page; a later
page costs no more queries however many cases the seller has."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disputes.models import Case
from disputes.views import seller as seller_views
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import Page, case_references, every_page, next_link, select

PAGE = 3


@pytest.fixture(autouse=True)
def small_pages(monkeypatch, policy):
    monkeypatch.setattr(seller_views, "CASES_PER_PAGE", PAGE)


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


def file_case(buyer, seller, title) -> Case:
    return factories.case(order_=factories.order(buyer=buyer, seller=seller, item_title=title))


def test_pages_show_every_case_once_those_needing_an_answer_first(seller_client, buyer, seller, time_machine):
    now = timezone.now()
    cases = []
    for n in range(2 * PAGE + 1):
        time_machine.move_to(now - timedelta(hours=n % 3), tick=False)  # due dates shared by several cases
        cases.append(file_case(buyer, seller, f"Item {n}"))
    time_machine.move_to(now, tick=False)
    answered = {bring_to("awaiting_buyer", cases[n]).pk for n in (0, 3)}
    file_case(buyer, factories.UserFactory(), "someone else's")

    pages = every_page(seller_client, "/seller/")

    by_due = sorted(
        Case.objects.filter(pk__in=[case.pk for case in cases]), key=lambda c: (c.seller_answer_due_at, c.pk)
    )
    expected = [c.reference for c in by_due if c.pk not in answered] + [c.reference for c in by_due if c.pk in answered]
    assert [len(page) for page in pages] == [PAGE, PAGE, 1]
    assert sum(pages, []) == expected


def test_next_page_keeps_the_tab(seller_client, buyer, seller):
    closed = [bring_to("withdrawn", file_case(buyer, seller, f"Closed {n}")) for n in range(PAGE + 1)]
    file_case(buyer, seller, "Still open")

    first = Page(seller_client.get("/seller/?show=closed"))
    following = next_link(first)

    assert following.startswith("?show=closed&cursor=")
    pages = every_page(seller_client, "/seller/?show=closed")
    assert sorted(sum(pages, [])) == sorted(case.reference for case in closed)
    last = Page(seller_client.get("/seller/" + following))
    assert select(last.one("nav", aria_label="Pages of cases"), "a", href="/seller/?show=closed")  # "First page"


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WzAsIm5vdCBhIGRhdGUiLDFd", "WzksbnVsbCwxXQ"])
def test_a_broken_cursor_shows_the_first_page(seller_client, buyer, seller, cursor):
    for n in range(PAGE + 1):
        file_case(buyer, seller, f"Item {n}")

    page = Page(seller_client.get(f"/seller/?cursor={cursor}"))

    assert page.response.status_code == 200
    assert case_references(page) == case_references(Page(seller_client.get("/seller/")))


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_later_page_takes_no_more_queries_with_many_cases(seller_client, buyer, seller):
    for n in range(PAGE + 1):
        file_case(buyer, seller, f"Item {n}")
    second_page = "/seller/" + next_link(Page(seller_client.get("/seller/")))
    few = queries(seller_client, second_page)

    for n in range(4 * PAGE):
        bring_to("withdrawn", file_case(buyer, seller, f"More {n}"))
    many = queries(seller_client, second_page)

    assert many <= few
