"""Long lists a page at a time (the console queue, My cases, My orders, the API's case list), by cursor:
each page starts after the last row of the one before, so following "Next page" shows every row
once, in order, even when rows share a timestamp; a broken cursor shows the first page; and a
later page takes no more queries however long the list."""

import base64
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from disputes import services
from disputes.models import Case, Order
from disputes.selectors import queue as queue_selectors
from disputes.views import portal
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import (
    Page,
    case_references,
    every_page,
    next_link,
    order_ids,
    select,
    text_of,
)

PAGE = 3


@pytest.fixture
def frozen(time_machine, policy):
    """Every case below is filed and escalated at the same instant: equal timestamps throughout."""
    time_machine.move_to(timezone.now(), tick=False)


@pytest.fixture
def console_client(agent):
    client = Client()
    client.force_login(agent)
    return lambda role="agent": client


@pytest.fixture
def client_as(buyer):
    client = Client()
    client.force_login(buyer)
    return lambda role="buyer": client


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(queue_selectors, "QUEUE_LIMIT", PAGE)
    monkeypatch.setattr(portal, "CASES_PER_PAGE", PAGE)
    monkeypatch.setattr(portal, "ORDERS_PER_PAGE", PAGE)


def file_case(buyer, seller, title="Walnut desk lamp") -> Case:
    return factories.case(order_=factories.order(buyer=buyer, seller=seller, item_title=title))


def escalated(buyer, seller, how_many) -> list[Case]:
    cases = []
    for n in range(how_many):
        case = file_case(buyer, seller, f"Queue {n}")
        services.case_decline_claim(case=case, seller=seller)
        cases.append(services.case_escalate(case=Case.objects.get(pk=case.pk), buyer=buyer))
    return cases


# The console queue


def test_queue_pages_show_every_case_once_in_order_when_deadlines_are_equal(
    console_client, frozen, small_pages, buyer, seller
):
    cases = escalated(buyer, seller, 2 * PAGE + 1)
    assert len({case.agent_decision_due_at for case in cases}) == 1
    client = console_client("agent")

    pages = every_page(client, "/console/")

    assert [len(page) for page in pages] == [PAGE, PAGE, 1]
    assert sum(pages, []) == [case.reference for case in sorted(cases, key=lambda case: case.pk)]


def test_queue_next_page_keeps_the_filters_and_the_counts_stay_for_the_whole_queue(
    console_client, frozen, small_pages, buyer, seller, agent
):
    cases = escalated(buyer, seller, PAGE + 2)
    services.case_claim(case=cases[0], agent=agent)  # in mediation: outside ?state=escalated
    client = console_client("agent")

    first = Page(client.get("/console/?state=escalated"))
    second = Page(client.get(next_link(first)))

    assert "state=escalated" in next_link(first)
    assert case_references(first) + case_references(second) == [case.reference for case in cases[1:]]
    assert next_link(second) is None
    assert "5 cases" in second.text  # the summary counts the whole queue, not the page
    [back] = select(second.one("nav", aria_label="Queue pages"), "a", href="/console/?state=escalated")
    assert text_of(back) == "First page"


def test_queue_case_leaving_it_between_two_pages_shifts_nothing(console_client, frozen, small_pages, buyer, seller):
    cases = escalated(buyer, seller, 2 * PAGE)
    client = console_client("agent")
    first = Page(client.get("/console/"))
    services.case_withdraw(case=cases[0], buyer=buyer)  # leaves the queue from the page already read

    second = Page(client.get(next_link(first)))

    assert case_references(second) == [case.reference for case in cases[PAGE:]]  # none skipped


def test_queue_past_the_count_cap_says_so_instead_of_counting_on(console_client, policy, buyer, seller, monkeypatch):
    monkeypatch.setattr(queue_selectors, "QUEUE_COUNT_CAP", 2)
    escalated(buyer, seller, 3)

    page = Page(console_client("agent").get("/console/"))

    assert "Waiting for an agent 2+" in page.text
    assert "2+ cases" in page.text


def tampered(cursor_parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor_parts).encode()).decode().rstrip("=")


BROKEN_CURSORS = [
    "not-a-cursor",
    "%%%",
    tampered(["0", "2026-01-01T00:00:00+00:00", 1]),  # a group that is not a number
    tampered([7, "2026-01-01T00:00:00+00:00", 1]),  # no such group
    tampered([0, "yesterday", 1]),
    tampered([0, "2026-01-01T00:00:00", 1]),  # a time without its zone
    tampered([0, "2026-01-01T00:00:00+00:00", "1 OR 1=1"]),
    tampered({"group": 0}),
    "\x00",
]


@pytest.mark.parametrize("cursor", BROKEN_CURSORS)
@pytest.mark.parametrize("url", ["/console/", "/console/?fragment=1", "/cases/"])
def test_a_broken_cursor_shows_the_first_page(
    client_as, console_client, frozen, small_pages, buyer, seller, url, cursor
):
    cases = escalated(buyer, seller, PAGE + 1)
    client = console_client("agent") if url.startswith("/console/") else client_as("buyer")
    separator = "&" if "?" in url else "?"

    page = Page(client.get(url + separator + "cursor=" + cursor))

    assert page.response.status_code == 200
    assert len(case_references(page)) == PAGE
    assert next_link(page) is not None
    if url == "/console/":
        assert case_references(page) == [case.reference for case in cases[:PAGE]]


# My cases


def test_my_cases_pages_show_every_case_once_waiting_on_the_buyer_first(client_as, frozen, small_pages, buyer, seller):
    cases = [file_case(buyer, seller, f"Item {n}") for n in range(2 * PAGE + 2)]
    waiting = [bring_to("awaiting_buyer", cases[n]) for n in (1, 4, 6, 7)]
    file_case(factories.UserFactory(), seller, "someone else's")

    pages = every_page(client_as("buyer"), "/cases/")

    newest_first = sorted(cases, key=lambda case: case.pk, reverse=True)
    waiting_refs = {case.reference for case in waiting}
    expected = [c.reference for c in newest_first if c.reference in waiting_refs] + [
        c.reference for c in newest_first if c.reference not in waiting_refs
    ]
    assert [len(page) for page in pages] == [PAGE, PAGE, 2]
    assert sum(pages, []) == expected


def test_my_cases_last_page_links_back_to_the_newest(client_as, frozen, small_pages, buyer, seller):
    for n in range(PAGE + 1):
        file_case(buyer, seller, f"Item {n}")
    client = client_as("buyer")

    last = Page(client.get(next_link(Page(client.get("/cases/")))))

    assert next_link(last) is None
    [back] = select(last.one("nav", aria_label="Pages of my cases"), "a", href="/cases/")
    assert text_of(back) == "Newest cases"


# My orders


def orders_of(buyer, seller, how_many, **fields) -> list[Order]:
    return [factories.order(buyer=buyer, seller=seller, item_title=f"Order {n}", **fields) for n in range(how_many)]


def test_my_orders_pages_show_every_order_once_newest_first(client_as, frozen, small_pages, buyer, seller):
    now = timezone.now()
    same_time = orders_of(buyer, seller, 2 * PAGE)  # all placed at one instant: the number breaks the tie
    older = orders_of(buyer, seller, 2, placed_at=now - timedelta(days=30))
    newest = factories.order(buyer=buyer, seller=seller, item_title="Today", placed_at=now)
    factories.order(buyer=factories.UserFactory(), seller=seller, external_id="ORD-NOT-YOURS")

    pages = every_page(client_as("buyer"), "/orders/", rows=order_ids)

    newest_first = [newest] + sorted(same_time, key=lambda o: o.pk, reverse=True)
    expected = newest_first + sorted(older, key=lambda o: o.pk, reverse=True)
    assert [len(page) for page in pages] == [PAGE, PAGE, PAGE]
    assert sum(pages, []) == [order.external_id for order in expected]


def test_my_orders_later_page_still_links_an_order_to_its_open_case(client_as, frozen, small_pages, buyer, seller):
    first = factories.order(buyer=buyer, seller=seller, item_title="Cracked teapot")
    case = factories.case(order_=first)
    orders_of(buyer, seller, PAGE)  # newer numbers, listed first: the teapot is on the second page
    client = client_as("buyer")

    second = Page(client.get(next_link(Page(client.get("/orders/")))))

    assert order_ids(second) == [first.external_id]
    [row] = second.select("tr", cls="order-row")
    [link] = select(row, "a")
    assert text_of(link) == f"See case {case.reference}"
    assert "Report a problem" not in text_of(row)


def test_my_orders_last_page_links_back_to_the_newest(client_as, frozen, small_pages, buyer, seller):
    orders_of(buyer, seller, PAGE + 1)
    client = client_as("buyer")

    last = Page(client.get(next_link(Page(client.get("/orders/")))))

    assert next_link(last) is None
    [back] = select(last.one("nav", aria_label="Pages of my orders"), "a", href="/orders/")
    assert text_of(back) == "Newest orders"


def test_my_orders_one_page_shows_no_pager(client_as, frozen, small_pages, buyer, seller):
    orders_of(buyer, seller, PAGE)

    page = Page(client_as("buyer").get("/orders/"))

    assert len(order_ids(page)) == PAGE
    assert not page.select("nav", aria_label="Pages of my orders")


@pytest.mark.parametrize("cursor", BROKEN_CURSORS)
def test_my_orders_with_a_broken_cursor_shows_the_first_page(client_as, frozen, small_pages, buyer, seller, cursor):
    orders = orders_of(buyer, seller, PAGE + 1)

    page = Page(client_as("buyer").get("/orders/?cursor=" + cursor))

    assert page.response.status_code == 200
    assert order_ids(page) == [order.external_id for order in sorted(orders, key=lambda o: o.pk, reverse=True)][:PAGE]
    assert next_link(page) is not None


# Query counts: a later page, and a longer list, cost the same


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/console/", "/cases/", "/orders/"])
def test_later_pages_take_no_more_queries_with_many_rows_than_with_few(
    client_as, console_client, frozen, small_pages, buyer, seller, url
):
    client = console_client("agent") if url == "/console/" else client_as("buyer")
    escalated(buyer, seller, PAGE + 1)  # as many orders, each with its case
    second_page = next_link(Page(client.get(url)))
    first = queries(client, url)
    few = queries(client, second_page)  # one row: its group ran out, so the next group is asked too

    escalated(buyer, seller, 4 * PAGE)
    many = queries(client, second_page)

    assert many <= few <= first + 1


@pytest.mark.parametrize(
    ("url", "rows", "last_row"),
    [
        ("/console/", case_references, lambda cases: cases[-1].reference),  # equal deadlines: filed first, first
        ("/cases/", case_references, lambda cases: cases[0].reference),  # newest first
        ("/orders/", order_ids, lambda cases: cases[0].order.external_id),  # newest first
    ],
    ids=["console queue", "my cases", "my orders"],
)
def test_later_page_reads_the_list_from_the_cursor_on(
    client_as, console_client, frozen, small_pages, buyer, seller, url, rows, last_row
):
    cases = escalated(buyer, seller, PAGE + 1)  # as many orders, each with its case
    client = console_client("agent") if url == "/console/" else client_as("buyer")
    second_page = next_link(Page(client.get(url)))

    with CaptureQueriesContext(connection) as captured:
        page = Page(client.get(second_page))

    assert rows(page) == [last_row(cases)]  # the row after the cursor, not the first page again
    listing = [sql for sql in (q["sql"] for q in captured) if "LIMIT" in sql and "COUNT" not in sql]
    assert listing and "OFFSET" not in " ".join(listing)


# The API's case list


@pytest.mark.parametrize("cursor", ["not-a-cursor", "cD0xMjM0NTY3ODkwMTIzNDU2Nzg5MA", "bz0tMQ"])
def test_api_case_list_with_a_broken_cursor_answers_not_found_not_an_error(policy, buyer, cursor):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=buyer).key}")

    response = client.get(f"/api/v1/cases/?cursor={cursor}")

    assert response.status_code == 404  # DRF's answer to a cursor it did not write, as documented
    assert response.json()["code"] == "not_found"


def test_api_changed_since_reads_recent_cases_only(frozen, buyer, seller, time_machine):
    old = file_case(buyer, seller, "Old")
    time_machine.move_to(timezone.now() + timedelta(hours=2), tick=False)
    recent = file_case(buyer, seller, "Recent")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=buyer).key}")
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    body = client.get("/api/v1/cases/", {"updated_since": since}).json()

    assert [row["reference"] for row in body["results"]] == [recent.reference]
    assert old.reference in str(client.get("/api/v1/cases/").json())
