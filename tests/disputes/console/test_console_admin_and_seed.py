"""Canned replies are edited in admin with their history; evidence requests and agent statuses are
shown read-only; the demo seed brings canned replies and an available agent."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from disputes.models import AgentStatus, CannedReply, Case
from disputes.services import agent_set_available, evidence_request_create
from tests.disputes.case_states import bring_to


def test_canned_reply_is_added_and_edited_in_admin_with_its_history(client, admin_user):
    client.force_login(admin_user)

    form = client.get("/admin/disputes/cannedreply/add/")
    assert "{buyer_name}" in form.text and "{deadline}" in form.text  # the placeholders are explained
    client.post("/admin/disputes/cannedreply/add/", {"title": "Hello", "body": "Hi {buyer_name}", "is_active": "on"})
    reply = CannedReply.objects.get(title="Hello")
    client.post(f"/admin/disputes/cannedreply/{reply.pk}/change/", {"title": "Hello", "body": "Dear {buyer_name}"})

    reply.refresh_from_db()
    assert (reply.body, reply.is_active) == ("Dear {buyer_name}", False)
    rows = reply.history.select_related("history_user").order_by("history_id")
    assert [(row.history_type, row.history_user) for row in rows] == [
        ("+", admin_user),
        ("~", admin_user),
    ]
    assert client.get(f"/admin/disputes/cannedreply/{reply.pk}/history/").status_code == 200


def test_evidence_requests_and_agent_statuses_are_read_only_in_admin(client, admin_user, agent, open_case, senior):
    case = bring_to("in_mediation", open_case, agent=agent)
    request = evidence_request_create(
        case=case, agent=agent, party=case.buyer, note="Photo", due_at=timezone.now() + timedelta(days=1)
    )
    status = agent_set_available(agent=agent, available=True)
    client.force_login(admin_user)

    for model, pk in (("evidencerequest", request.pk), ("agentstatus", status.pk)):
        assert client.get(f"/admin/disputes/{model}/").status_code == 200
        change = client.get(f"/admin/disputes/{model}/{pk}/change/")
        assert change.status_code == 200 and 'name="_save"' not in change.text
        assert client.get(f"/admin/disputes/{model}/add/").status_code == 403


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())


def test_seed_demo_adds_canned_replies_and_an_available_agent_without_changing_the_states(seeded):
    assert set(Case.objects.values_list("state", flat=True)) == set(Case.State.values)
    replies = CannedReply.objects.filter(is_active=True)
    assert replies.count() >= 3
    assert all("{reference}" in reply.body for reply in replies)
    assert list(AgentStatus.objects.filter(is_available=True).values_list("agent__username", flat=True)) == ["agent"]

    call_command("seed_demo", stdout=StringIO())
    assert CannedReply.objects.count() == replies.count()
