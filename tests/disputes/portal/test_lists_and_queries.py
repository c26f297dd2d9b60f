"""The lists as each side reads them, notifications and time zones (the queries that do not grow
with rows: test_list_queries.py)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from disputes import services
from disputes.models import Notification, Profile
from disputes.services.conversation import evidence_add, message_post
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import Page, attr, new_case, photo, select, text_of


def case_rows(page) -> dict[str, tuple[str, str]]:
    """Each listed case by its URL: (the badge, the line under it)."""
    rows = {}
    for row in page.select("li", cls="case-row"):
        [link] = select(row, "a")
        [badge] = select(row, "span", cls="badge")
        due = select(row, "p", cls="due")
        rows[attr(link, "href")] = (text_of(badge), without_time_left(due[0]) if due else "")
    return rows


def without_time_left(element) -> str:
    """A deadline line without its "in 2 days" part, which the browser counts down."""
    parts = [child for child in element.children if isinstance(child, str) or attr(child, "class") != "left"]
    return " ".join(text_of(part) for part in parts)


def shown(moment) -> str:
    """A time as the pages write it, in the zone active for the test (UTC unless set)."""
    return timezone.localtime(moment).strftime("%-d %b %Y, %H:%M %Z")


pytestmark = pytest.mark.usefixtures("server_zone")


# "My cases" (buyer) and the resolution center (seller) read the same case from each side

# state: (the buyer reads, the seller reads) as (badge, whose move / deadline)
SIDES = {
    "open": (
        ("Waiting for the seller", "Waiting for the seller: {seller_answer_due_at}"),
        ("Needs your answer", "Your answer is needed: {seller_answer_due_at}"),
    ),
    "awaiting_buyer": (
        ("Your answer is needed", "Your answer is needed by: {buyer_answer_due_at}"),
        ("Waiting for the buyer", "Waiting for the buyer until: {buyer_answer_due_at}"),
    ),
    "escalated": (
        ("With our team", "We aim to decide by: {agent_decision_due_at}"),
        ("With our team", "We aim to decide by: {agent_decision_due_at}"),
    ),
    "awaiting_return": (
        ("Send the item back", "Send the item back: {return_due_at}"),
        ("Waiting for the return", "Waiting for the buyer to send it: {return_due_at}"),
    ),
    "resolved": (
        ("Resolved: partial refund", "Either side may appeal until: {appeal_until}"),
        ("Resolved: partial refund", "Either side may appeal until: {appeal_until}"),
    ),
    "appealed": (("Under appeal", "With our team"), ("Under appeal", "With our team")),
    "closed": (("Closed: partial refund", "Closed"), ("Closed: partial refund", "Closed")),
    "withdrawn": (("Withdrawn", ""), ("Withdrawn", "")),
}


def expected(template: tuple[str, str], case) -> tuple[str, str]:
    badge, line = template
    deadlines = {
        name: shown(getattr(case, name))
        for name in (
            "seller_answer_due_at",
            "buyer_answer_due_at",
            "agent_decision_due_at",
            "return_due_at",
            "appeal_until",
        )
        if getattr(case, name)
    }
    return badge, line.format(**deadlines)


@pytest.mark.parametrize("state", SIDES)
def test_case_lists_read_the_case_from_each_side(client_as, open_case, agent, senior, state):
    case = bring_to(state, open_case, agent=agent, senior=senior)
    as_buyer, as_seller = SIDES[state]

    buyer_rows = case_rows(Page(client_as("buyer").get("/cases/")))
    seller_rows = case_rows(Page(client_as("seller").get("/seller/")))

    assert buyer_rows == {case.get_absolute_url(): expected(as_buyer, case)}
    assert seller_rows == {case.get_absolute_url(): expected(as_seller, case)}


def test_case_lists_read_a_shipped_return_from_each_side(client_as, case_in):
    case = case_in("awaiting_return")
    services.case_mark_return_shipped(case=case, buyer=case.buyer, carrier="DHL", tracking_number="JD1")
    case.refresh_from_db()

    buyer_rows = case_rows(Page(client_as("buyer").get("/cases/")))
    seller_rows = case_rows(Page(client_as("seller").get("/seller/")))

    due = shown(case.return_due_at)
    assert buyer_rows[case.get_absolute_url()] == ("Return on its way", f"Waiting for the seller to confirm: {due}")
    assert seller_rows[case.get_absolute_url()] == ("Return on its way", f"Confirm when it arrives: {due}")


def test_case_page_reads_the_state_from_each_side(client_as, case_in):
    case = case_in("awaiting_buyer")

    buyer_badge = text_of(Page(client_as("buyer").get(case.get_absolute_url())).one(id="case-status"))
    seller_badge = text_of(Page(client_as("seller").get(case.get_absolute_url())).one(id="case-status"))

    assert (buyer_badge, seller_badge) == ("Your answer is needed", "Waiting for the buyer")


def test_my_cases_lists_the_cases_waiting_on_the_buyer_first(client_as, policy, buyer, seller):
    older_waiting = new_case(buyer, seller, "Teapot")
    bring_to("awaiting_buyer", older_waiting)
    newer_open = new_case(buyer, seller, "Scarf")

    rows = list(case_rows(Page(client_as("buyer").get("/cases/"))))

    assert rows == [older_waiting.get_absolute_url(), newer_open.get_absolute_url()]


# The resolution center


@pytest.fixture
def seller_desk(buyer, seller, other_buyer, other_seller, time_machine):
    """The seller's cases: three open ones filed at different times, and the others in each tab."""
    now = timezone.now()
    factories.dispute_policy(effective_from=now - timedelta(days=5))
    cases = {}
    for name, hours_ago in [("due_last", 0), ("due_first", 60), ("due_second", 30)]:
        time_machine.move_to(now - timedelta(hours=hours_ago), tick=False)
        cases[name] = new_case(buyer, seller, name)
    time_machine.move_to(now, tick=False)
    cases["waiting"] = bring_to("awaiting_buyer", new_case(other_buyer, seller, "waiting"))
    cases["platform"] = bring_to("escalated", new_case(buyer, seller, "platform"))
    cases["closed"] = bring_to("resolved", new_case(other_buyer, seller, "closed"))
    cases["withdrawn"] = bring_to("withdrawn", new_case(buyer, seller, "withdrawn"))
    new_case(buyer, other_seller, "someone else's")  # not this seller's: counted nowhere
    return cases


def test_resolution_center_lists_cases_needing_an_answer_first_by_time_left(client_as, seller_desk):
    page = Page(client_as("seller").get("/seller/"))

    urls = list(case_rows(page))
    assert urls[:3] == [seller_desk[name].get_absolute_url() for name in ("due_first", "due_second", "due_last")]
    assert set(urls[3:]) == {
        seller_desk[name].get_absolute_url() for name in ("waiting", "platform", "closed", "withdrawn")
    }


def tab_counts(page) -> dict[str, str]:
    tabs = {}
    for link in select(page.one("nav", cls="tabs"), "a"):
        [count] = select(link, "span", cls="count")
        tabs[text_of(link).rsplit(" ", 1)[0]] = text_of(count)
    return tabs


def test_resolution_center_counts_each_tab(client_as, seller_desk):
    page = Page(client_as("seller").get("/seller/"))

    assert tab_counts(page) == {
        "All": "7",
        "Needs your answer": "3",
        "Waiting for the buyer": "1",
        "With our team": "1",
        "Closed": "2",
    }


@pytest.mark.parametrize(
    "tab, names",
    [
        ("needs_answer", ["due_first", "due_second", "due_last"]),
        ("waiting_for_buyer", ["waiting"]),
        ("with_platform", ["platform"]),
        ("closed", ["closed", "withdrawn"]),
    ],
)
def test_resolution_center_tab_shows_only_its_cases(client_as, seller_desk, tab, names):
    page = Page(client_as("seller").get(f"/seller/?show={tab}"))

    urls = list(case_rows(page))
    if tab == "closed":
        assert sorted(urls) == sorted(seller_desk[name].get_absolute_url() for name in names)
    else:
        assert urls == [seller_desk[name].get_absolute_url() for name in names]
    [current] = page.select("a", aria_current="page")
    assert attr(current, "href") == f"?show={tab}"
    assert tab_counts(page)["All"] == "7"  # the counts do not depend on the tab shown


def test_resolution_center_with_an_unknown_tab_shows_all(client_as, seller_desk):
    page = Page(client_as("seller").get("/seller/?show=everything"))

    assert len(case_rows(page)) == 7


# Notifications


def unread_in_header(page) -> str | None:
    """The number by "Notifications" in the header, or None when there is none."""
    counts = select(page.one("a", cls="notifications-link"), "span", cls="count")
    return text_of(counts[0]).split()[0] if counts else None


@pytest.fixture
def told_seller(open_case, buyer, django_capture_on_commit_callbacks):
    """Two things the buyer did that the seller is told about: messages (told once until read) and a photo."""
    with django_capture_on_commit_callbacks(execute=True):
        message_post(case=open_case, author=buyer, body="Hello?")
        message_post(case=open_case, author=buyer, body="Anyone?")
        evidence_add(case=open_case, uploader=buyer, files=[photo()])
    return open_case


def test_notifications_page_shows_the_unread_count_in_the_header(client_as, told_seller):
    page = Page(client_as("seller").get("/notifications/"))

    assert unread_in_header(page) == "2"
    assert text_of(page.one("a", cls="notifications-link")) in ("Notifications 2", "Notifications 2 unread")
    items = [text_of(item) for item in page.select("li", cls="notification")]
    assert len(items) == 2 and all(item.startswith("New ") for item in items)
    assert f"The buyer (buyer) added evidence to case {told_seller.reference}." in items[0]
    assert unread_in_header(Page(client_as("buyer").get("/notifications/"))) is None  # the buyer acted


def test_notifications_mark_all_read_clears_the_count(client_as, told_seller):
    client = client_as("seller")

    page = Page(client.post("/notifications/read/", follow=True))

    assert unread_in_header(page) is None
    assert not page.select("li", cls="unread")
    assert "Mark all as read" not in page.text
    assert unread_in_header(Page(client.get("/cases/"))) is None  # the header on every page


def test_notification_opened_is_marked_read_and_leads_to_its_case(client_as, told_seller):
    client = client_as("seller")
    newest = Notification.objects.filter(recipient=told_seller.seller).first()

    response = client.post("/notifications/read/", {"notification": newest.pk, "next": told_seller.get_absolute_url()})

    assert response.url == told_seller.get_absolute_url()
    assert unread_in_header(Page(client.get("/notifications/"))) == "1"


def test_opening_a_case_marks_its_notices_read_and_no_others(client_as, told_seller, seller, buyer):
    elsewhere = factories.case(buyer=buyer, seller=seller)
    Notification.objects.create(
        recipient=seller, case=elsewhere, event="filed", text="Elsewhere.", created_at=timezone.now()
    )
    client = client_as("seller")

    page = Page(client.get(told_seller.get_absolute_url()))

    assert unread_in_header(page) == "1"  # the header already leaves out what this page shows
    unread = Notification.objects.filter(recipient=seller, read_at__isnull=True)
    assert [notice.case for notice in unread] == [elsewhere]


def test_notification_read_never_redirects_off_the_site(client_as, told_seller):
    response = client_as("seller").post("/notifications/read/", {"next": "https://evil.example/cases/"})

    assert response.url == "/notifications/"


# Time zones


def opened_at(page) -> str:
    facts = page.select("dl", cls="facts")[0]
    terms = [text_of(child) for child in facts.children if not isinstance(child, str)]
    return terms[terms.index("Opened") + 1]


def in_zone(moment, zone) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%-d %b %Y, %H:%M %Z")


def test_case_page_times_show_in_utc_without_a_setting(client_as, open_case):
    page = Page(client_as("buyer").get(open_case.get_absolute_url()))

    assert opened_at(page) == in_zone(open_case.filed_at, "UTC")


def test_case_page_times_show_in_the_zone_set_in_settings(client_as, open_case):
    client = client_as("buyer")
    client.post("/account/", {"time_zone": "Europe/Berlin"})

    page = Page(client.get(open_case.get_absolute_url()))

    assert opened_at(page) == in_zone(open_case.filed_at, "Europe/Berlin")
    assert in_zone(open_case.filed_at, "UTC") not in page.text
    # The other party keeps their own zone.
    assert opened_at(Page(client_as("seller").get(open_case.get_absolute_url()))) == in_zone(open_case.filed_at, "UTC")


def test_case_page_times_follow_the_browser_zone_cookie_without_a_setting(client_as, open_case):
    client = client_as("buyer")
    client.cookies["tz"] = "America/New_York"

    page = Page(client.get(open_case.get_absolute_url()))

    assert opened_at(page) == in_zone(open_case.filed_at, "America/New_York")


def test_case_page_times_follow_the_zone_cookie_as_the_browser_script_writes_it(client_as, open_case):
    client = client_as("buyer")
    client.cookies["tz"] = "America%2FNew_York"  # encodeURIComponent("America/New_York")

    page = Page(client.get(open_case.get_absolute_url()))

    assert opened_at(page) == in_zone(open_case.filed_at, "America/New_York")


def test_case_page_times_prefer_the_setting_over_the_browser_cookie(client_as, open_case):
    client = client_as("buyer")
    client.post("/account/", {"time_zone": "Europe/Berlin"})
    client.cookies["tz"] = "America/New_York"

    page = Page(client.get(open_case.get_absolute_url()))

    assert opened_at(page) == in_zone(open_case.filed_at, "Europe/Berlin")


def test_case_page_times_ignore_an_unknown_zone_cookie(client_as, open_case):
    client = client_as("buyer")
    client.cookies["tz"] = "Mars/Olympus_Mons"

    page = Page(client.get(open_case.get_absolute_url()))

    assert opened_at(page) == in_zone(open_case.filed_at, "UTC")


def test_case_list_deadlines_show_in_the_zone_set_in_settings(client_as, open_case):
    client = client_as("buyer")
    client.post("/account/", {"time_zone": "Asia/Tokyo"})

    rows = case_rows(Page(client.get("/cases/")))

    due = in_zone(open_case.seller_answer_due_at, "Asia/Tokyo")
    assert rows[open_case.get_absolute_url()] == ("Waiting for the seller", f"Waiting for the seller: {due}")


def test_account_settings_with_an_unknown_zone_is_refused(client_as, buyer):
    page = Page(client_as("buyer").post("/account/", {"time_zone": "Mars/Olympus_Mons"}))

    assert page.response.status_code == 200
    assert any("Select a valid choice" in alert for alert in page.alerts)
    assert not Profile.objects.filter(user=buyer).exists()
