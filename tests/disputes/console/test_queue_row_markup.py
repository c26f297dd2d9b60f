"""What a queue row shows and lets an agent do, written as HTML by the view: every part of the
row, names and titles escaped, and a row's claim form accepted by the CSRF check."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from disputes.models import Case
from tests import factories
from tests.disputes.console.test_console_queue import escalate, file_case, row_of
from tests.disputes.portal.helpers import Page, attr, select, text_of

TITLE = 'Lamp <b>"shade"</b> & <script>alert(1)</script>'


def test_a_row_shows_the_case_with_what_people_wrote_escaped(console_client, policy, seller):
    buyer = factories.UserFactory(username="buyer-x", first_name="Ann <i>", last_name="O'Neil & Co")
    case = escalate(file_case(buyer, seller, title=TITLE, amount="75.50"))
    due = timezone.now() - timedelta(hours=3)
    Case.objects.filter(pk=case.pk).update(agent_decision_due_at=due, raised_to_seniors_at=timezone.now())

    page = Page(console_client("agent").get("/console/"))

    row = row_of(page, case)
    [link] = select(row, "a")
    assert attr(link, "href") == f"/console/cases/{case.reference}/"
    assert text_of(link) == f"{case.reference} · {TITLE}"
    assert "overdue" in attr(row, "class").split()
    text = text_of(row)
    assert "claims 75.50 EUR · buyer Ann <i> O'Neil & Co · seller" in text
    assert "Unassigned" in text and "Overdue" in text and "Raised to senior agents" in text
    assert "Decide by:" in text and "3\xa0hours ago" in text
    assert not select(row, "script") and not select(row, "b") and not select(row, "i")
    assert "<script>alert(1)</script>" not in page.html


def test_a_row_names_the_agent_on_the_case(console_client, policy, buyer, seller, console_people):
    other = factories.agent_user(username="other-agent", first_name="Kim", last_name="Lee")
    theirs, mine = escalate(file_case(buyer, seller)), escalate(file_case(buyer, seller))
    Case.objects.filter(pk=theirs.pk).update(agent=other, state=Case.State.IN_MEDIATION)
    Case.objects.filter(pk=mine.pk).update(agent=console_people["agent"], state=Case.State.IN_MEDIATION)

    page = Page(console_client("agent").get("/console/"))

    assert "With Kim Lee" in text_of(row_of(page, theirs)) and "(you)" not in text_of(row_of(page, theirs))
    assert "(you)" in text_of(row_of(page, mine))
    assert not select(row_of(page, mine), "form") and not select(row_of(page, theirs), "form")


def test_a_rows_claim_form_passes_the_csrf_check_and_claims_the_case(policy, buyer, seller, console_people):
    case = escalate(file_case(buyer, seller))
    client = Client(enforce_csrf_checks=True)
    client.force_login(console_people["agent"])

    [form] = select(row_of(Page(client.get("/console/")), case), "form")
    fields = {attr(field, "name"): attr(field, "value") for field in select(form, "input")}
    assert set(fields) == {"csrfmiddlewaretoken", "submission"}
    response = client.post(attr(form, "action"), fields)

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.IN_MEDIATION and case.agent == console_people["agent"]
