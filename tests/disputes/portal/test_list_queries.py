"""The portal's pages make as many queries with many rows as with one."""

from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

import pytest
from django.utils import timezone

from disputes import services
from disputes.models import Notification
from disputes.services.conversation import evidence_add, message_post
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import Page, new_case, photo, select

pytestmark = pytest.mark.usefixtures("server_zone")


# Queries do not grow with rows


def add_cases(buyer, seller, count):
    """`count` more cases between the two, in a mix of states."""
    states = ["open", "awaiting_buyer", "resolved", "escalated", "withdrawn"]
    for index in range(count):
        bring_to(states[index % len(states)], new_case(buyer, seller, f"Item {index}"))


def add_notifications(user, case, count):
    for index in range(count):
        Notification.objects.create(
            recipient=user, case=case, event="message_posted", text=f"Note {index}", created_at=timezone.now()
        )


def add_to_case(case, count):
    """`count` more messages, photos and offers on one case (each offer replaces the last)."""
    for index in range(count):
        message_post(case=case, author=case.buyer, body=f"Message {index}")
        evidence_add(case=case, uploader=case.seller, files=[photo()])
        services.offer_make(case=case, seller=case.seller, kind="partial_refund", amount=Decimal("10.00") + index)


def listed_cases(page) -> int:
    return len(page.select("li", cls="case-row"))


def timeline_rows(page) -> int:
    """Messages, photos and offers on the timeline: the smallest of the three counts."""
    return min(len(page.select("li", cls=kind)) for kind in ("message", "evidence", "offer"))


class QueryPage(NamedTuple):
    url: str
    reader: str
    add_rows: Callable  # (case, how many)
    count_rows: Callable  # (page) -> rows shown
    bound: int  # the queries the page takes with 1 row and with 15: the same


# Every page's header asks whether the reader is an agent (for the Console link): their user and
# group permissions, two queries, counted in each bound below (the case page asked already).
PERMISSIONS = 2

QUERY_PAGES = {
    "my-cases": QueryPage(
        "/cases/", "buyer", lambda c, n: add_cases(c.buyer, c.seller, n), listed_cases, 5 + PERMISSIONS
    ),
    "resolution-center": QueryPage(
        # + 4: the seller's standing (feedback score, policy in force, orders and cases in the window)
        "/seller/",
        "seller",
        lambda c, n: add_cases(c.buyer, c.seller, n),
        listed_cases,
        6 + 4 + PERMISSIONS,
    ),
    "orders": QueryPage(
        "/orders/",
        "buyer",
        lambda c, n: add_cases(c.buyer, c.seller, n),
        lambda page: len(select(page.one("tbody"), "tr")),
        6 + PERMISSIONS,
    ),
    "notifications": QueryPage(
        "/notifications/",
        "buyer",
        lambda c, n: add_notifications(c.buyer, c, n),
        lambda page: len(page.select("li", cls="notification")),
        6 + PERMISSIONS,
    ),
    "case-page": QueryPage(
        "{case}", "buyer", add_to_case, timeline_rows, 13 + 3
    ),  # + evidence requests, decisions, its notices read
}


@pytest.mark.parametrize("name", QUERY_PAGES)
def test_page_queries_do_not_grow_with_rows(client_as, policy, buyer, seller, django_assert_max_num_queries, name):
    url, role, add_rows, count_rows, bound = QUERY_PAGES[name]
    case = new_case(buyer, seller, "First")
    if name in ("case-page", "notifications"):  # the lists of cases already hold the first one
        add_rows(case, 1)
    url = url.format(case=case.get_absolute_url())
    client = client_as(role)

    with django_assert_max_num_queries(bound):
        one = Page(client.get(url))
    add_rows(case, 14)
    with django_assert_max_num_queries(bound):
        many = Page(client.get(url))

    assert (count_rows(one), count_rows(many)) == (1, 15)
