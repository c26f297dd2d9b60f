"""Each console action through HTTP: what it changes, the history it leaves, what each side then reads.
Taking cases, writing and evidence requests here; proposals, decisions, reassigning and availability
in test_console_decisions.py."""

from datetime import timedelta

import time_machine
from django.core import mail
from django.utils import timezone

from disputes import services
from disputes.models import (
    CannedReply,
    EvidenceRequest,
    Message,
    Notification,
)
from disputes.services.conversation import evidence_add, message_post
from tests.disputes.case_states import footprint, reload
from tests.disputes.console.helpers import escalated_case, last_reason, post, workspace
from tests.disputes.portal.helpers import Page, attr, photo, select, text_of, token

# Taking cases


def test_take_next_gives_the_agent_the_case_with_the_least_time_left(as_agent, agent, policy, buyer, seller):
    first = escalated_case(buyer, seller, "First lamp")
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        second = escalated_case(buyer, seller, "Second lamp")

        response = post(as_agent, "/console/take-next/")

    assert response.status_code == 302 and response.url == f"/console/cases/{first.reference}/"
    first, second = reload(first), reload(second)
    assert (first.state, first.agent) == ("in_mediation", agent)
    assert (second.state, second.agent) == ("escalated", None)
    assert last_reason(first) == "Agent took the next case"
    page = Page(as_agent.get(response.url))
    assert f"{first.reference} is yours." in page.flashes
    assert page.one(id="case-status").children == ["In mediation"]


def test_take_next_with_nothing_waiting_says_so_and_stays_on_the_queue(as_agent, case_at):
    case_at("in_mediation")

    response = post(as_agent, "/console/take-next/")

    assert response.status_code == 302 and response.url == "/console/"
    assert "Nothing is waiting for you in the queue." in Page(as_agent.get("/console/")).flashes


def test_take_next_sent_twice_with_one_form_takes_one_case(as_agent, agent, policy, buyer, seller):
    cases = [escalated_case(buyer, seller, f"Lamp {n}") for n in range(2)]
    data = {"submission": token()}

    as_agent.post("/console/take-next/", data)
    again = as_agent.post("/console/take-next/", data)

    assert again.status_code == 302
    assert [reload(case).state for case in cases] == ["in_mediation", "escalated"]


def test_claim_from_the_workspace_assigns_the_case(as_agent, agent, case_at):
    case = case_at("escalated")
    page = workspace(as_agent, case)
    assert page.select("form", action=f"/console/cases/{case.reference}/claim/")

    response = post(as_agent, f"/console/cases/{case.reference}/claim/")

    assert response.url == f"/console/cases/{case.reference}/"
    assert (reload(case).state, reload(case).agent) == ("in_mediation", agent)
    assert last_reason(case) == "Agent took the case for mediation"
    assert "Assigned to agent (you)" in text_of(workspace(as_agent, case).one(id="assignee"))


def test_claim_of_a_case_another_agent_took_first_explains_and_changes_nothing(as_agent, senior, case_at):
    case = case_at("escalated")
    services.case_claim(case=case, agent=senior)
    before = footprint(case)

    response = post(as_agent, f"/console/cases/{case.reference}/claim/")

    assert response.status_code == 400
    assert any("in mediation; that is not possible now" in flash for flash in Page(response).flashes)
    assert footprint(case) == before and reload(case).agent == senior


def test_appeal_is_taken_by_a_senior_agent_only(as_agent, as_senior, senior, case_at):
    case = case_at("appealed")
    assert not workspace(as_agent, case).select("form", action=f"/console/cases/{case.reference}/appeal/take/")
    assert workspace(as_senior, case).select("form", action=f"/console/cases/{case.reference}/appeal/take/")

    assert post(as_agent, f"/console/cases/{case.reference}/appeal/take/").status_code == 403
    response = post(as_senior, f"/console/cases/{case.reference}/appeal/take/")

    assert response.url == f"/console/cases/{case.reference}/"
    assert (reload(case).state, reload(case).agent) == ("appealed", senior)
    assert last_reason(case) == "Appeal taken by senior"


def test_senior_agent_who_decided_the_case_is_not_offered_its_appeal(console_client, as_senior, senior, case_at):
    case = case_at("escalated")
    services.case_claim(case=case, agent=senior)
    services.case_decide(case=case, agent=senior, outcome="no_action", amount=None, rationale="Policy 4.")
    services.case_appeal(case=case, party=case.buyer, grounds="Please look again.")

    page = workspace(as_senior, case)

    assert not page.select("form", action=f"/console/cases/{case.reference}/appeal/take/")
    response = post(as_senior, f"/console/cases/{case.reference}/appeal/take/")
    assert response.status_code == 400
    assert reload(case).agent is None


# Writing


def test_message_to_the_parties_is_stored_shown_to_both_and_they_are_told(
    as_agent, console_client, case_at, django_capture_on_commit_callbacks
):
    case = case_at("in_mediation")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post(as_agent, f"/console/cases/{case.reference}/messages/", body="Could you both send photos?")

    assert response.url == f"/console/cases/{case.reference}/"
    message = Message.objects.get(case=case)
    assert (message.body, message.is_internal) == ("Could you both send photos?", False)
    for party in ("buyer", "seller"):
        page = Page(console_client(party).get(case.get_absolute_url()))
        [entry] = page.select("li", cls="message")
        assert "Support team · agent" in text_of(entry) and "Could you both send photos?" in text_of(entry)
    assert Notification.objects.filter(case=case, event="message_posted").count() == 2
    assert len(mail.outbox) == 2


def test_internal_note_is_marked_for_agents_and_never_reaches_a_party(
    as_agent, console_client, case_at, django_capture_on_commit_callbacks
):
    case = case_at("in_mediation")
    notifications = Notification.objects.count()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post(as_agent, f"/console/cases/{case.reference}/notes/", body="Seller has 3 similar cases.")

    assert response.url == f"/console/cases/{case.reference}/"
    note = Message.objects.get(case=case)
    assert (note.body, note.is_internal) == ("Seller has 3 similar cases.", True)
    [entry] = workspace(as_agent, case).select("li", cls="internal")
    assert "Internal note · agents only" in text_of(entry) and "Seller has 3 similar cases." in text_of(entry)
    assert attr(entry, "data-message-id") == str(note.pk)
    for party in ("buyer", "seller"):
        client = console_client(party)
        for path in (case.get_absolute_url(), "/notifications/", "/cases/", "/seller/", "/"):
            assert "Seller has 3 similar cases." not in client.get(path).text, (party, path)
    assert Notification.objects.count() == notifications
    assert not mail.outbox


def test_internal_note_is_kept_out_of_every_party_page_and_email_after_later_events(console_client, agent, case_at):
    case = case_at("in_mediation")
    message_post(case=case, author=agent, body="Secret: refund likely.", internal=True)
    message_post(case=case, author=agent, body="We are looking at it.")
    services.case_decide(case=case, agent=agent, outcome="no_action", amount=None, rationale="Policy 4.2.")

    for party in ("buyer", "seller"):
        assert "Secret: refund likely." not in console_client(party).get(case.get_absolute_url()).text
    assert not Notification.objects.filter(text__contains="Secret").exists()
    assert all("Secret" not in email.body and "Secret" not in email.subject for email in mail.outbox)


def test_empty_message_is_refused_on_its_field(as_agent, case_at):
    case = case_at("in_mediation")

    response = post(as_agent, f"/console/cases/{case.reference}/messages/", body="   ")

    assert response.status_code == 400
    assert "This field is required." in Page(response).alerts
    assert not Message.objects.filter(case=case).exists()


def test_canned_reply_is_written_out_for_the_case_into_the_message_box(as_agent, case_at):
    case = case_at("in_mediation")
    reply = CannedReply.objects.create(
        title="Taking it",
        body="Hello {buyer_name} and {seller_name}: case {reference} about {item}, "
        "decision by {deadline}. {agent_name}. {unknown} {0} {buyer_name.__class__}",
    )
    due = timezone.localtime(case.agent_decision_due_at).strftime("%-d %B %Y, %H:%M %Z")

    page = Page(as_agent.post(f"/console/cases/{case.reference}/canned/", {"reply": reply.pk}))

    expected = (
        f"Hello buyer and seller: case {case.reference} about Walnut desk lamp, decision by {due}. agent. "
        "{unknown} {0} {buyer_name.__class__}"
    )
    assert page.response.status_code == 200
    assert text_of(page.one("textarea", id="message-body")) == expected
    assert not Message.objects.filter(case=case).exists()  # nothing is sent until the agent sends it

    answer = as_agent.post(
        f"/console/cases/{case.reference}/canned/", {"reply": reply.pk}, HTTP_ACCEPT="application/json"
    )
    assert answer.json() == {"title": "Taking it", "body": expected}


def test_canned_reply_deadline_is_the_evidence_due_date_while_evidence_is_awaited(as_agent, agent, case_at):
    case = case_at("in_mediation")
    due = timezone.now() + timedelta(hours=20)
    services.evidence_request_create(case=case, agent=agent, party=case.buyer, note="Photo", due_at=due)
    reply = CannedReply.objects.create(title="Photos", body="Please send them by {deadline}.")

    answer = as_agent.post(
        f"/console/cases/{case.reference}/canned/", {"reply": reply.pk}, HTTP_ACCEPT="application/json"
    )

    assert answer.json()["body"] == f"Please send them by {timezone.localtime(due).strftime('%-d %B %Y, %H:%M %Z')}."


def test_canned_reply_that_is_inactive_is_not_offered_nor_used(as_agent, case_at):
    case = case_at("in_mediation")
    retired = CannedReply.objects.create(title="Old", body="Old text", is_active=False)
    CannedReply.objects.create(title="New", body="New text")

    page = workspace(as_agent, case)
    canned = page.one("form", action=f"/console/cases/{case.reference}/canned/")
    assert [text_of(option) for option in select(canned, "option")] == ["New"]
    response = as_agent.post(f"/console/cases/{case.reference}/canned/", {"reply": retired.pk})
    assert response.status_code == 400


# Evidence requests


def test_evidence_request_is_stored_shown_to_the_party_asked_and_holds_the_decision(as_agent, console_client, case_at):
    case = case_at("in_mediation")

    response = post(
        as_agent,
        f"/console/cases/{case.reference}/evidence-requests/",
        party="buyer",
        note="A photo of the box, please.",
        due_at="2099-03-04T15:30",
    )

    assert response.url == f"/console/cases/{case.reference}/"
    request = EvidenceRequest.objects.get(case=case)
    assert (request.requested_from, request.note) == (case.buyer, "A photo of the box, please.")
    assert timezone.localtime(request.due_at).strftime("%Y-%m-%d %H:%M") == "2099-03-04 15:30"
    assert last_reason(case) == "Evidence requested from the buyer by 2099-03-04 15:30 UTC"

    buyer_page = Page(console_client("buyer").get(case.get_absolute_url()))
    card = buyer_page.one("section", cls="request")
    assert "We need evidence from you" in text_of(card)
    assert "A photo of the box, please." in text_of(card) and "4 Mar 2099, 15:30 UTC" in text_of(card)
    seller_page = Page(console_client("seller").get(case.get_absolute_url()))
    assert not seller_page.select("section", cls="request")
    assert "A photo of the box" not in seller_page.text

    page = workspace(as_agent, case)
    assert not page.select("form", action=f"/console/cases/{case.reference}/decision/")
    held = page.one("p", cls="disabled")
    assert "Evidence was requested: decide once it arrives, or from" in text_of(held)
    refused = post(as_agent, f"/console/cases/{case.reference}/decision/", outcome="no_action", rationale="Policy 4.")
    assert refused.status_code == 400
    assert reload(case).state == "in_mediation"


def test_evidence_request_in_the_past_is_refused_on_its_field(as_agent, case_at):
    case = case_at("in_mediation")

    response = post(
        as_agent,
        f"/console/cases/{case.reference}/evidence-requests/",
        party="seller",
        note="Tracking, please.",
        due_at="2001-01-01T10:00",
    )

    assert response.status_code == 400
    assert "Choose a date in the future." in Page(response).alerts
    assert not EvidenceRequest.objects.exists()


def test_evidence_request_addressed_to_a_party_disappears_once_they_add_evidence(
    console_client, agent, case_at, evidence_media
):
    case = case_at("in_mediation")
    services.evidence_request_create(
        case=case, agent=agent, party=case.buyer, note="The box", due_at=timezone.now() + timedelta(days=1)
    )
    evidence_add(case=case, uploader=case.buyer, files=[photo()])

    assert not Page(console_client("buyer").get(case.get_absolute_url())).select("section", cls="request")
