"""Hostile input through the real pages (HTTP, forms, views, templates): never a server error, and
every page that shows the input shows it as text, never as markup that would run."""

import re

import pytest
from django.core import mail
from hypothesis import example, given, settings
from hypothesis import strategies as st

from disputes.models import Case, Message, Offer
from tests.disputes.portal.helpers import token
from tests.hostile.conftest import HOSTILE, rolled_back, row_counts
from tests.hostile.payloads import MARKUP, amount_string, any_text, hostile_text

pytestmark = pytest.mark.django_db

# What would run if a page put user text in as markup: an element or attribute the payloads carry.
LIVE_MARKUP = re.compile(
    r"<script>(?:window|alert)|<img src=x|<svg/onload|<iframe|href=\"javascript:|onerror=\"?window",
    re.IGNORECASE,
)
PAGE_EXAMPLES = settings(HOSTILE, max_examples=6)  # each example posts and reads several pages


def assert_shown_as_text(response, where: str, *, status: int = 200) -> None:
    assert response.status_code == status, f"{where} answered {response.status_code}"
    html = response.content.decode()
    found = LIVE_MARKUP.search(html)
    assert found is None, f"{where} carries live markup: …{html[max(0, found.start() - 80):found.end() + 80]}…"


def assert_no_server_error(response) -> None:
    assert response.status_code in (200, 302, 400), response.status_code


@pytest.fixture
def hostile_people(buyer, seller, agent, signed_in):
    """Names are user text too: they appear on every page, in every notice and every email.

    Everyone signs in here, before the examples: a session made inside one would be rolled back."""
    buyer.first_name, buyer.last_name = MARKUP[1], MARKUP[0]
    buyer.save()
    seller.first_name = MARKUP[2]
    seller.save()
    for person in (buyer, seller, agent):
        signed_in(person)
    return buyer, seller, agent


def sendable(strategy):
    """Text a browser can send: a form post is UTF-8, which holds no unpaired surrogate."""
    return strategy.map(lambda text: text.encode("utf-8", "replace").decode("utf-8"))


def read_everything(client_for, case, *, as_agent=True) -> None:
    buyer, seller = client_for(case.buyer), client_for(case.seller)
    pages = [
        (buyer, case.get_absolute_url()),
        (buyer, "/cases/"),
        (buyer, "/"),
        (buyer, "/notifications/"),
        (seller, case.get_absolute_url()),
        (seller, "/seller/"),
        (seller, "/notifications/"),
    ]
    if as_agent:
        agent = client_for(case.agent) if case.agent_id else None
        if agent is not None:
            pages += [
                (agent, f"/console/cases/{case.reference}/"),
                (agent, "/console/"),
                (agent, "/console/?fragment=1"),
                (agent, f"/console/?q={MARKUP[1]}&state=<script>"),
            ]
    for client, path in pages:
        assert_shown_as_text(client.get(path), path)
    for email in mail.outbox:
        assert not getattr(email, "alternatives", None), "emails are plain text; an HTML part would need escaping"


@PAGE_EXAMPLES
@given(body=sendable(any_text(Message.MAX_LENGTH)))
@example(body=MARKUP[0] + MARKUP[1])
def test_party_message_page_never_fails_and_shows_markup_as_text(
    hostile_people, open_case, signed_in, django_capture_on_commit_callbacks, body
):
    with rolled_back():
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in(open_case.buyer).post(
                f"{open_case.get_absolute_url()}messages/", {"submission": token(), "body": body}
            )
        assert_no_server_error(response)
        read_everything(signed_in, open_case)


@PAGE_EXAMPLES
@given(
    amount=sendable(amount_string),
    note=sendable(hostile_text()),
    return_address=sendable(any_text(1000)),
    kind=st.sampled_from(["partial_refund", "return_and_refund", "replacement", "<script>", ""]),
)
@example(amount="NaN", note=MARKUP[1], return_address=MARKUP[0], kind="return_and_refund")
def test_offer_page_never_fails_and_stores_only_valid_amounts(
    hostile_people, open_case, signed_in, django_capture_on_commit_callbacks, amount, note, return_address, kind
):
    with rolled_back():
        before = row_counts()
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in(open_case.seller).post(
                f"{open_case.get_absolute_url()}actions/make_offer/",
                {"submission": token(), "kind": kind, "amount": amount, "note": note, "return_address": return_address},
            )
        assert_no_server_error(response)
        offer = Offer.objects.filter(case=open_case).first()
        if response.status_code == 302 and offer is not None:
            assert offer.note == note.strip() and offer.return_address == return_address.strip()
            assert offer.amount is None or (offer.amount.is_finite() and 0 < offer.amount <= open_case.order.amount)
        else:
            assert row_counts() == before, "a refused offer wrote rows"
        read_everything(signed_in, open_case)


@PAGE_EXAMPLES
@given(amount=sendable(amount_string), description=sendable(any_text(Message.MAX_LENGTH)))
@example(amount="1e3", description=MARKUP[0])
@example(amount="-0.01", description=MARKUP[1])
def test_case_file_page_never_fails_and_opens_only_a_valid_claim(
    hostile_people, fresh_order, signed_in, django_capture_on_commit_callbacks, amount, description
):
    order = fresh_order()
    buyer = order.buyer
    with rolled_back():
        before = row_counts()
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in(buyer).post(
                "/cases/new/",
                {
                    "submission": token(),
                    "order": order.external_id,
                    "reason": "damaged",
                    "requested_outcome": "partial_refund",
                    "amount_claimed": amount,
                    "description": description,
                },
            )
        assert response.status_code in (200, 302), response.status_code
        case = Case.objects.filter(order=order).first()
        if case is None:
            assert row_counts() == before
            assert_shown_as_text(response, "the filing form with its errors")
            assert 'name="amount_claimed"' in response.content.decode()
        else:
            assert case.amount_claimed.is_finite() and 0 < case.amount_claimed <= order.amount
            assert case.description == description.strip()
            read_everything(signed_in, case)


@PAGE_EXAMPLES
@given(
    text=sendable(any_text(5000)),
    amount=sendable(amount_string),
    form=st.sampled_from(["messages", "notes", "proposal", "decision", "evidence-requests"]),
)
@example(text=MARKUP[1], amount="10.00", form="decision")
@example(text=MARKUP[0], amount="10.00", form="proposal")
def test_console_forms_never_fail_and_show_markup_as_text(
    hostile_people, mediated_case, agent, signed_in, django_capture_on_commit_callbacks, text, amount, form
):
    data = {
        "messages": {"body": text},
        "notes": {"body": text},
        "proposal": {"kind": "partial_refund", "amount": amount, "note": text},
        "decision": {"outcome": "partial_refund", "amount": amount, "rationale": text},
        "evidence-requests": {"party": "buyer", "note": text, "due_at": amount},
    }[form]
    with rolled_back():
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in(agent).post(
                f"/console/cases/{mediated_case.reference}/{form}/", {"submission": token(), **data}
            )
        assert_no_server_error(response)
        if response.status_code == 400:
            assert_shown_as_text(response, f"the workspace with the {form} form's errors", status=400)
            assert f"/console/cases/{mediated_case.reference}/{form}/" in response.content.decode()
        read_everything(signed_in, Case.objects.get(pk=mediated_case.pk))
