"""The mediation queue: what it holds, its order, overdue marks, filters, counts, the live fragment,
and queries that do not grow with the rows shown."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from disputes import services
from disputes.models import Case
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import Page, attr, select, text_of


def file_case(buyer, seller, *, title="Walnut desk lamp", reason="not_as_described", amount="30.00"):
    order = factories.order(buyer=buyer, seller=seller, item_title=title)
    return factories.case(order_=order, reason=reason, amount_claimed=Decimal(amount))


def escalate(case) -> Case:
    services.case_decline_claim(case=case, seller=case.seller)
    services.case_escalate(case=case, buyer=case.buyer)
    return Case.objects.get(pk=case.pk)


def queue_rows(page) -> list[str]:
    """The references listed, in order."""
    return [attr(row, "data-reference") for row in page.select("li", cls="case-row")]


def row_of(page, case):
    return page.one("li", data_reference=case.reference)


def tabs(page) -> dict[str, int]:
    nav = page.one("nav", aria_label="Queue by state")
    counts = {}
    for link in select(nav, "a"):
        [count] = select(link, "span", cls="count")
        counts[text_of(link).rsplit(" ", 1)[0]] = int(text_of(count))
    return counts


def test_queue_holds_escalated_in_mediation_and_appealed_cases_only(
    console_client, policy, buyer, seller, agent, senior
):
    cases = {
        state: bring_to(state, file_case(buyer, seller, title=f"Item {state}"), agent=agent, senior=senior)
        for state in Case.State.values
    }

    page = Page(console_client("agent").get("/console/"))

    assert set(queue_rows(page)) == {cases[state].reference for state in ("escalated", "in_mediation", "appealed")}
    assert text_of(select(row_of(page, cases["escalated"]), "span", cls="badge")[0]) == "Waiting for an agent"
    assert "Unassigned" in text_of(row_of(page, cases["escalated"]))
    assert "With agent (you)" in text_of(row_of(page, cases["in_mediation"]))


def test_queue_is_ordered_by_time_left_to_decide_and_marks_overdue_cases(console_client, policy, buyer, seller):
    start = timezone.now()
    first = escalate(file_case(buyer, seller, title="First"))  # decide within 48 hours of now
    with time_machine.travel(start + timedelta(hours=47)):
        second = escalate(file_case(buyer, seller, title="Second"))
    with time_machine.travel(start + timedelta(hours=20)):
        middle = escalate(file_case(buyer, seller, title="Middle"))

    with time_machine.travel(start + timedelta(hours=49)):
        page = Page(console_client("agent").get("/console/"))

    assert queue_rows(page) == [first.reference, middle.reference, second.reference]
    assert "Overdue" in text_of(row_of(page, first)) and "overdue" in attr(row_of(page, first), "class")
    assert "Overdue" not in text_of(row_of(page, middle))
    assert "1 overdue" in text_of(page.one("p", cls="queue-summary"))


@pytest.fixture
def mixed_queue(policy, buyer, seller, other_seller, agent, senior):
    """Five cases: escalated ×2, in mediation ×2 (one mine), appealed; and one still open."""
    cases = {
        "damaged-10": escalate(file_case(buyer, seller, reason="damaged", amount="10.00")),
        "wrong-70": escalate(file_case(buyer, other_seller, reason="wrong_item", amount="70.00")),
        "mine-50": bring_to("in_mediation", file_case(buyer, other_seller, amount="50.00"), agent=agent),
        "seniors-30": bring_to("in_mediation", file_case(buyer, seller, reason="not_received"), agent=senior),
        "appealed-20": bring_to("appealed", file_case(buyer, seller, amount="20.00")),
    }
    file_case(buyer, seller, title="Still with the seller")
    return cases


FILTERS = {
    "": ["damaged-10", "wrong-70", "mine-50", "seniors-30", "appealed-20"],
    "state=escalated": ["damaged-10", "wrong-70"],
    "state=in_mediation": ["mine-50", "seniors-30"],
    "state=appealed": ["appealed-20"],
    "reason=damaged": ["damaged-10"],
    "reason=not_as_described": ["mine-50", "appealed-20"],
    "amount_min=25": ["wrong-70", "mine-50", "seniors-30"],
    "amount_max=25": ["damaged-10", "appealed-20"],
    "amount_min=25&amount_max=55": ["mine-50", "seniors-30"],
    "seller=other_seller": ["wrong-70", "mine-50"],
    "seller=OTHER_SELLER": ["wrong-70", "mine-50"],
    "seller=nobody": [],
    "mine=on": ["mine-50"],
    "unassigned=on": ["damaged-10", "wrong-70", "appealed-20"],
    "unassigned=on&state=escalated&reason=wrong_item": ["wrong-70"],
    "overdue=on": [],
}


@pytest.mark.parametrize("query, expected", FILTERS.items(), ids=[q or "none" for q in FILTERS])
def test_queue_filters(console_client, mixed_queue, query, expected):
    page = Page(console_client("agent").get(f"/console/?{query}"))

    assert set(queue_rows(page)) == {mixed_queue[name].reference for name in expected}
    if not expected:
        assert "No case here with these filters." in page.text


def test_queue_filter_overdue_keeps_only_cases_past_their_decision_date(console_client, mixed_queue):
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        late = escalate(file_case(*_parties(mixed_queue), title="Filed late"))
        page = Page(console_client("agent").get("/console/?overdue=on"))

    assert late.reference not in queue_rows(page)
    assert set(queue_rows(page)) == {case.reference for case in mixed_queue.values()}


def _parties(cases):
    case = next(iter(cases.values()))
    return case.buyer, case.seller


def test_queue_filter_with_a_bad_value_says_so_and_ignores_it(console_client, mixed_queue):
    page = Page(console_client("agent").get("/console/?amount_min=lots&state=escalated"))

    assert page.response.status_code == 200
    assert "Enter a number." in page.alerts
    assert set(queue_rows(page)) == {mixed_queue["damaged-10"].reference, mixed_queue["wrong-70"].reference}


def test_queue_filter_form_shows_the_filters_sent_and_only_those(console_client, mixed_queue):
    client = console_client("agent")
    filtered = Page(client.get("/console/?seller=other_seller&overdue=on&amount_min=lots&state=appealed"))
    blank = Page(client.get("/console/"))
    # the same filters in another order, with a page cursor: the same form
    again = Page(client.get("/console/?cursor=x&state=appealed&amount_min=lots&overdue=on&seller=other_seller"))

    for page in (filtered, again):
        assert attr(page.one("input", name="seller"), "value") == "other_seller"
        assert "checked" in dict(page.one("input", name="overdue").attributes)
        assert "selected" in dict(page.one("option", value="appealed").attributes)
        assert "Enter a number." in page.alerts
    assert attr(blank.one("input", name="seller"), "value") is None
    assert "checked" not in dict(blank.one("input", name="overdue").attributes)
    assert "selected" not in dict(blank.one("option", value="appealed").attributes)
    assert not blank.alerts


def test_queue_counts_cases_per_state_under_the_other_filters(console_client, mixed_queue):
    client = console_client("agent")

    assert tabs(Page(client.get("/console/"))) == {
        "All": 5,
        "Waiting for an agent": 2,
        "In mediation": 2,
        "Under appeal": 1,
    }
    filtered = Page(client.get("/console/?seller=other_seller&state=escalated"))
    assert tabs(filtered) == {"All": 2, "Waiting for an agent": 1, "In mediation": 1, "Under appeal": 0}
    current = filtered.one("a", aria_current="page")
    assert attr(current, "href") == "/console/?seller=other_seller&state=escalated"
    assert text_of(current).startswith("Waiting for an agent")


def test_queue_fragment_is_the_live_part_only_with_the_same_filters(console_client, mixed_queue):
    response = console_client("agent").get("/console/?fragment=1&reason=damaged")

    assert response.status_code == 200
    assert "<html" not in response.text and "Take next" not in response.text
    page = Page(response)
    assert queue_rows(page) == [mixed_queue["damaged-10"].reference]
    assert all("fragment" not in attr(link, "href") for link in page.select("a"))


def test_queue_offers_claim_on_waiting_cases_and_the_appeal_to_seniors_only(console_client, mixed_queue):
    agent_page = Page(console_client("agent").get("/console/"))
    senior_page = Page(console_client("senior").get("/console/"))
    appealed = mixed_queue["appealed-20"]

    claim = f"/console/cases/{mixed_queue['damaged-10'].reference}/claim/"
    take = f"/console/cases/{appealed.reference}/appeal/take/"
    assert agent_page.select("form", action=claim) and senior_page.select("form", action=claim)
    assert not agent_page.select("form", action=take)
    assert "For a senior agent" in text_of(row_of(agent_page, appealed))
    assert senior_page.select("form", action=take)
    assert not agent_page.select("form", action=f"/console/cases/{mixed_queue['mine-50'].reference}/claim/")


def add_queue_cases(buyer, seller, agent, how_many):
    for n in range(how_many):
        case = escalate(file_case(buyer, seller, title=f"Extra {n}"))
        if n % 3 == 1:
            services.case_claim(case=case, agent=agent)


@pytest.mark.parametrize("query", ["", "?state=escalated&unassigned=on", "?fragment=1"])
def test_queue_queries_do_not_grow_with_rows(
    console_client, policy, buyer, seller, agent, django_assert_max_num_queries, query
):
    client = console_client("agent")
    add_queue_cases(buyer, seller, agent, 1)
    # session, user, permissions (2), time zone, unread notices, rows, counts, availability
    bound = 9

    with django_assert_max_num_queries(bound):
        one = Page(client.get(f"/console/{query}"))
    add_queue_cases(buyer, seller, agent, 20)
    with django_assert_max_num_queries(bound):
        many = Page(client.get(f"/console/{query}"))

    assert len(queue_rows(one)) == 1
    assert len(queue_rows(many)) > 10
