"""Proposals, decisions, appeals, reassigning and availability in the console, through HTTP: what
each changes, the history it leaves, what each side then reads."""

from decimal import Decimal

from disputes import services
from disputes.models import (
    AgentStatus,
    Decision,
    Offer,
    RefundInstruction,
)
from disputes.services.conversation import message_post
from tests import factories
from tests.disputes.case_states import bring_to, reload
from tests.disputes.console.helpers import escalated_case, last_reason, post, workspace
from tests.disputes.portal.helpers import Page, attr, select, text_of

# Proposals and decisions


def test_proposal_is_put_to_both_parties(as_agent, console_client, case_at):
    case = case_at("in_mediation")

    response = post(
        as_agent, f"/console/cases/{case.reference}/proposal/", kind="partial_refund", amount="25.00", note="Fair."
    )

    assert response.url == f"/console/cases/{case.reference}/"
    offer = Offer.objects.get(case=case)
    assert (offer.made_by_role, offer.kind, offer.amount, offer.status) == (
        "agent",
        "partial_refund",
        Decimal("25.00"),
        "pending",
    )
    for party in ("buyer", "seller"):
        page = Page(console_client(party).get(case.get_absolute_url()))
        assert "Our proposal" in text_of(page.one("section", cls="offer"))
        assert page.select("button", value="accept")
    assert "Buyer: no answer yet · Seller: no answer yet" in text_of(
        workspace(as_agent, case).one("section", cls="offer")
    )


def test_decision_settles_the_case_with_its_rationale_and_refund(as_agent, console_client, agent, case_at):
    case = case_at("in_mediation")

    response = post(
        as_agent,
        f"/console/cases/{case.reference}/decision/",
        outcome="partial_refund",
        amount="22.50",
        rationale="Disputes policy 4.2: the crack is visible in the buyer's photo.",
    )

    assert response.url == f"/console/cases/{case.reference}/"
    case = reload(case)
    assert (case.state, case.outcome, case.refund_amount) == ("resolved", "partial_refund", Decimal("22.50"))
    decision = Decision.objects.get(case=case)
    assert (decision.decided_by, decision.rationale) == (
        agent,
        "Disputes policy 4.2: the crack is visible in the buyer's photo.",
    )
    assert RefundInstruction.objects.get(case=case).amount == Decimal("22.50")
    assert last_reason(case) == (
        "Mediation decision: Partial refund. Disputes policy 4.2: the crack is visible in the buyer's photo."
    )
    buyer_page = Page(console_client("buyer").get(case.get_absolute_url()))
    assert text_of(buyer_page.one(id="case-status")) == "Resolved: partial refund"
    assert text_of(buyer_page.one(id="refund-amount")) == "22.50 EUR"
    page = workspace(as_agent, case)
    assert "Disputes policy 4.2" in text_of(page.one("section", cls="outcome"))
    assert not page.select("form", action=f"/console/cases/{case.reference}/decision/")


def test_decision_without_a_rationale_is_refused_on_its_field(as_agent, case_at):
    case = case_at("in_mediation")

    response = post(as_agent, f"/console/cases/{case.reference}/decision/", outcome="no_action", rationale="")

    assert response.status_code == 400
    page = Page(response)
    assert "This field is required." in page.alerts
    assert page.one("details", cls="action", open=None)  # the decision form stays open with its error
    assert reload(case).state == "in_mediation"


def test_decision_and_proposal_forms_are_shown_to_the_assigned_agent_only(console_client, case_at):
    case = case_at("in_mediation")
    actions = [f"/console/cases/{case.reference}/{suffix}/" for suffix in ("decision", "proposal", "evidence-requests")]

    assigned = workspace(console_client("agent"), case)
    other = workspace(console_client("senior"), case)

    assert all(assigned.select("form", action=action) for action in actions)
    assert not any(other.select("form", action=action) for action in actions)
    assert other.select("form", action=f"/console/cases/{case.reference}/notes/")  # any agent writes notes


def test_appeal_decision_by_the_senior_agent_who_took_it_closes_the_case(as_senior, senior, case_at):
    case = case_at("appealed")
    services.appeal_claim(case=case, agent=senior)
    assert workspace(as_senior, case).select("form", action=f"/console/cases/{case.reference}/appeal/decision/")

    response = post(
        as_senior,
        f"/console/cases/{case.reference}/appeal/decision/",
        outcome="full_refund",
        rationale="Disputes policy 6.1: the defect was hidden.",
    )

    assert response.url == f"/console/cases/{case.reference}/"
    case = reload(case)
    assert (case.state, case.outcome, case.refund_amount) == ("closed", "full_refund", case.order.amount)
    assert Decision.objects.get(case=case, stage="appeal").decided_by == senior


# Reassigning and availability


def reassign_options(page, case) -> list[str]:
    form = page.one("form", action=f"/console/cases/{case.reference}/reassign/")
    return [text_of(option) for option in select(form, "option")]


def test_reassign_hands_the_case_to_the_chosen_agent(as_agent, agent, senior, admin_user, policy, buyer, seller):
    factories.agent_user(username="agent2", first_name="Ann", last_name="Other")
    case = bring_to("in_mediation", factories.case(order_=factories.order(buyer=buyer, seller=seller)), agent=agent)
    # Any agent (the admin is one) but the one who has it and the parties.
    assert reassign_options(workspace(as_agent, case), case) == ["admin", "Ann Other", "senior"]

    response = post(as_agent, f"/console/cases/{case.reference}/reassign/", agent=str(senior.pk))

    assert response.url == f"/console/cases/{case.reference}/"
    assert reload(case).agent == senior
    assert last_reason(case) == "Reassigned from agent to senior"


def test_reassign_of_an_appeal_offers_senior_agents_only(as_senior, agent, senior, admin_user, policy):
    factories.senior_agent_user(username="senior2")
    case = bring_to("appealed", factories.case(), agent=agent, senior=senior)
    services.appeal_claim(case=case, agent=senior)

    assert reassign_options(workspace(as_senior, case), case) == ["admin", "senior2"]

    response = post(as_senior, f"/console/cases/{case.reference}/reassign/", agent=str(agent.pk))
    assert response.status_code == 400
    assert reload(case).agent == senior


def test_availability_toggles_automatic_assignment(as_agent, agent):
    page = Page(as_agent.get("/console/"))
    assert "You are away" in text_of(page.one(id="availability"))

    post(as_agent, "/console/availability/", available="1")
    assert AgentStatus.objects.get(agent=agent).is_available
    page = Page(as_agent.get("/console/"))
    assert "You are available" in text_of(page.one(id="availability"))
    assert page.select("input", name="available", value="0")

    post(as_agent, "/console/availability/", available="0")
    assert not AgentStatus.objects.get(agent=agent).is_available


def test_available_agent_is_assigned_a_new_escalation_automatically(as_agent, agent, policy, buyer, seller, settings):
    settings.AUTO_ASSIGN_ESCALATIONS = True
    post(as_agent, "/console/availability/", available="1")

    case = reload(escalated_case(buyer, seller, "Auto lamp"))

    assert (case.state, case.agent) == ("in_mediation", agent)
    row = Page(as_agent.get("/console/?mine=on")).one("li", cls="case-row")
    assert "With agent (you)" in text_of(row)
    assert select(row, "a")[0].attributes[0] == ("href", f"/console/cases/{case.reference}/")


def test_agent_who_is_the_buyer_of_a_case_does_not_see_its_internal_notes(console_client, policy, seller, senior):
    from django.test import Client

    agent_buyer = factories.agent_user(username="agent_buyer")
    case = factories.case(order_=factories.order(buyer=agent_buyer, seller=seller, item_title="Own lamp"))
    case = bring_to("in_mediation", case, agent=senior)
    message_post(case=case, author=senior, body="Note about a colleague's case.", internal=True)
    client = Client()
    client.force_login(agent_buyer)

    page = Page(client.get(case.get_absolute_url()))

    assert "Note about a colleague's case." not in page.text
    assert attr(page.one(data_live_case=case.reference), "data-live-audience") == "party"
