"""Every action on the case page through HTTP: who may, what it changes and who is told. How its
forms refuse bad input and double submits, and what the page offers, is in test_case_forms.py."""

from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

import pytest
from django.core import mail

from disputes import services
from disputes.models import Notification
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import Page, action_url, declined, footprint, text_of, token


def in_state(state):
    return lambda case, **staff: bring_to(state, case, **staff)


class Action(NamedTuple):
    prepare: Callable  # brings the fixture case to where the action is possible
    actor: str  # the role who may act
    data: dict  # the form
    state_after: str
    reason: str  # the history row's change reason
    badge: str  # the status the actor then reads on the case page
    other_party: str  # a party to the case (or an agent) who may not act


ACTIONS = {
    "make_offer": Action(
        in_state("open"),
        "seller",
        {"kind": "partial_refund", "amount": "20.00", "note": "Sorry!"},
        "awaiting_buyer",
        "Seller offered: Partial refund",
        "Waiting for the buyer",
        "buyer",
    ),
    "accept_claim": Action(
        in_state("open"), "seller", {}, "resolved", "Seller accepted the claim", "Resolved: partial refund", "buyer"
    ),
    "decline_claim": Action(
        in_state("open"),
        "seller",
        {"note": "It was in the listing."},
        "awaiting_buyer",
        "Seller declined the claim: It was in the listing.",
        "Waiting for the buyer",
        "buyer",
    ),
    "accept_offer": Action(
        in_state("awaiting_buyer"),
        "buyer",
        {},
        "resolved",
        "Buyer accepted the offer: Partial refund",
        "Resolved: partial refund",
        "seller",
    ),
    "decline_offer": Action(
        in_state("awaiting_buyer"),
        "buyer",
        {"note": "Too little."},
        "open",
        "Buyer declined the offer: Too little.",
        "Waiting for the seller",
        "seller",
    ),
    "escalate": Action(
        declined,
        "buyer",
        {"note": "Please help."},
        "escalated",
        "Buyer asked the platform to step in: Please help.",
        "With our team",
        "seller",
    ),
    "confirm_return": Action(
        in_state("awaiting_return"),
        "seller",
        {},
        "resolved",
        "Seller confirmed the returned item arrived",
        "Resolved: return and refund",
        "buyer",
    ),
    "appeal": Action(  # either party may appeal, so the one who may not is an agent
        in_state("resolved"),
        "buyer",
        {"grounds": "The refund is too small."},
        "appealed",
        "Appeal: The refund is too small.",
        "Under appeal",
        "agent",
    ),
    "withdraw": Action(
        in_state("open"),
        "buyer",
        {"note": "Sorted out."},
        "withdrawn",
        "Buyer withdrew the case: Sorted out.",
        "Withdrawn",
        "seller",
    ),
}

# What each party is told, with {actor} as the notices name the one who acted.
TOLD = {
    "make_offer": "{actor} made an offer on case {ref}.",
    "accept_claim": "{actor} accepted the claim on case {ref}.",
    "decline_claim": "{actor} declined the claim on case {ref}.",
    "accept_offer": "{actor} accepted the offer on case {ref}.",
    "decline_offer": "{actor} declined the offer on case {ref}.",
    "escalate": "{actor} asked us to step in on case {ref}.",
    "confirm_return": "{actor} confirmed the return arrived on case {ref}.",
    "appeal": "{actor} appealed the outcome of case {ref}.",
    "withdraw": "{actor} withdrew case {ref}.",
}


@pytest.mark.parametrize("name", ACTIONS)
def test_case_action_by_the_right_party_moves_the_case_records_and_tells_the_other(
    client_as, people, open_case, agent, senior, django_capture_on_commit_callbacks, name
):
    action = ACTIONS[name]
    case = action.prepare(open_case, agent=agent, senior=senior)
    actor = people[action.actor]
    other = case.seller if actor == case.buyer else case.buyer
    history_before = case.history.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(action.actor).post(
            action_url(case, name), {"submission": token(), **action.data}, follow=True
        )

    case.refresh_from_db()
    assert response.redirect_chain == [(case.get_absolute_url(), 302)]
    assert case.state == action.state_after
    assert case.history.count() == history_before + 1
    latest = case.history.latest()
    assert (latest.history_user, latest.history_change_reason, latest.state) == (
        actor,
        action.reason,
        action.state_after,
    )

    page = Page(response)
    assert text_of(page.one(id="case-status")) == action.badge
    assert "Done." in page.flashes
    assert action.reason in page.text  # the timeline shows the change and why

    side = "The buyer" if actor == case.buyer else "The seller"
    text = TOLD[name].format(actor=f"{side} ({actor.username})", ref=case.reference)
    notices = list(Notification.objects.values_list("recipient", "case", "event", "text"))
    assert notices == [(other.pk, case.pk, name, text)]
    assert [(message.to, message.subject) for message in mail.outbox] == [([other.email], f"[{case.reference}] {text}")]
    assert f"{case.get_absolute_url()}" in mail.outbox[0].body


@pytest.mark.parametrize("wrong", ["other_buyer", "other_seller", "anonymous", "other_party"])
@pytest.mark.parametrize("name", ACTIONS)
def test_case_action_by_anyone_else_changes_nothing_and_tells_no_one(
    client_as, open_case, agent, senior, django_capture_on_commit_callbacks, name, wrong
):
    action = ACTIONS[name]
    case = action.prepare(open_case, agent=agent, senior=senior)
    role = action.other_party if wrong == "other_party" else wrong
    before = footprint(case)
    client = client_as(role)  # signed in before: a sign-in's own writes are not what is tested

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(action_url(case, name), {"submission": token(), **action.data})

    expected = {"other_buyer": 404, "other_seller": 404, "anonymous": 302}.get(role, 403)
    assert response.status_code == expected
    if role == "anonymous":
        assert response.url.startswith("/accounts/login/?next=")
    assert footprint(case) == before
    assert callbacks == []
    assert not Notification.objects.exists() and mail.outbox == []


def test_accept_offer_page_shows_resolved_with_the_refund(client_as, case_in):
    case = case_in("awaiting_buyer")

    page = Page(client_as("buyer").post(action_url(case, "accept_offer"), {"submission": token()}, follow=True))

    assert text_of(page.one(id="case-status")) == "Resolved: partial refund"
    assert text_of(page.one(id="refund-amount")) == "20.00 EUR"
    seller_page = Page(client_as("seller").get(case.get_absolute_url()))
    assert text_of(seller_page.one(id="refund-amount")) == "20.00 EUR"


def test_return_shipped_by_buyer_records_tracking_and_tells_the_seller(
    client_as, case_in, seller, buyer, django_capture_on_commit_callbacks
):
    case = case_in("awaiting_return")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("buyer").post(
            f"{case.get_absolute_url()}return/",
            {"submission": token(), "carrier": "DHL", "tracking_number": "JD77"},
            follow=True,
        )

    case.refresh_from_db()
    assert (case.state, case.return_carrier, case.return_tracking_number) == ("awaiting_return", "DHL", "JD77")
    assert case.history.latest().history_user == buyer
    assert case.history.latest().history_change_reason == "Buyer sent the item back with DHL"
    page = Page(response)
    assert text_of(page.one(id="case-status")) == "Return on its way"
    assert "DHL JD77" in page.text
    assert list(Notification.objects.values_list("recipient", "event")) == [(seller.pk, "return_shipped")]
    assert [message.to for message in mail.outbox] == [[seller.email]]


def test_proposal_accepted_by_both_parties_resolves_the_case(
    client_as, case_in, agent, buyer, seller, django_capture_on_commit_callbacks
):
    case = case_in("in_mediation")
    services.proposal_make(case=case, agent=agent, kind="partial_refund", amount=Decimal("25.00"))
    url = f"{case.get_absolute_url()}proposal/"

    with django_capture_on_commit_callbacks(execute=True):
        client_as("buyer").post(url, {"submission": token(), "answer": "accept"})
    case.refresh_from_db()
    assert case.state == "in_mediation"
    assert list(Notification.objects.values_list("recipient", "event")) == [(seller.pk, "proposal_accepted")]

    with django_capture_on_commit_callbacks(execute=True):
        client_as("seller").post(url, {"submission": token(), "answer": "accept"})

    case.refresh_from_db()
    assert (case.state, case.refund_amount) == ("resolved", Decimal("25.00"))
    latest = case.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (seller, "Both parties accepted the agent's proposal")
    assert Notification.objects.filter(event="adopt_proposal").get().recipient == buyer


def test_rating_after_the_end_is_stored_once_and_the_form_goes_away(client_as, case_in, buyer):
    case = case_in("resolved")
    url = f"{case.get_absolute_url()}rating/"

    response = client_as("buyer").post(url, {"submission": token(), "score": "5", "comment": "Fair."}, follow=True)

    assert case.survey_responses.get().respondent == buyer
    assert "Thank you for rating how we handled this case." in Page(response).flashes
    assert url not in Page(response).form_actions
    again = Page(client_as("buyer").post(url, {"submission": token(), "score": "1"}))
    assert again.response.status_code == 400
    assert "You have already rated this case." in again.text
    assert case.survey_responses.count() == 1
