"""The case page's forms through HTTP: refusals that explain and change nothing, double submits
that write once, only the actions the person may take now, and user text shown as text."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from disputes import services
from disputes.models import Case, Evidence, FormSubmission, Message, Notification, Offer
from tests import factories
from tests.disputes.case_states import OFFERED_AMOUNT
from tests.disputes.portal.helpers import FILING, Page, action_url, declined, footprint, photo, select, text_of, token

# Forms that validate and explain


def file_case(client, order, *, submission=None, files=(), **changes):
    data = {"submission": submission or token(), "order": order.external_id, **FILING, **changes}
    if files:
        data["evidence"] = list(files)
    return client.post("/cases/new/", data)


def test_case_file_with_an_amount_above_the_order_explains_and_opens_nothing(client_as, order):
    page = Page(file_case(client_as("buyer"), order, amount_claimed="80.01"))

    assert page.response.status_code == 200
    assert "You can claim at most the order amount, 80.00 EUR." in page.alerts
    assert not Case.objects.exists()


def test_case_file_refused_can_be_sent_again_with_the_same_token(client_as, order):
    submission = token()
    client = client_as("buyer")
    file_case(client, order, submission=submission, amount_claimed="80.01")

    response = file_case(client, order, submission=submission, amount_claimed="80.00")

    case = Case.objects.get()
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert case.amount_claimed == Decimal("80.00")


def test_case_file_outside_the_window_explains_and_opens_nothing(client_as, policy, buyer, seller):
    late = factories.order(buyer=buyer, seller=seller, delivered_days_ago=31)
    closes = late.delivered_at + timedelta(days=30)

    page = Page(file_case(client_as("buyer"), late))

    assert f"The time to open a case on this order ended on {closes:%d %b %Y}." in page.alerts
    assert "The time to open a case on Walnut desk lamp ended" in page.text
    assert not Case.objects.exists()


def test_case_file_second_active_case_on_an_order_explains_and_opens_nothing(client_as, open_case):
    page = Page(file_case(client_as("buyer"), open_case.order))

    assert f"This order already has an open case, {open_case.reference}." in page.alerts
    assert Case.objects.count() == 1


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_message_empty_explains_and_posts_nothing(client_as, open_case, django_capture_on_commit_callbacks, body):
    client = client_as("buyer")  # signed in before: a sign-in's own writes are not what is tested
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            f"{open_case.get_absolute_url()}messages/", {"submission": token(), "body": body}
        )

    page = Page(response)
    assert response.status_code == 400
    assert "That did not go through: see the message below." in page.flashes
    assert "This field is required." in page.alerts
    assert not Message.objects.exists() and callbacks == [] and mail.outbox == []


def test_message_on_a_withdrawn_case_explains_and_posts_nothing(client_as, case_in):
    case = case_in("withdrawn")

    page = Page(client_as("buyer").post(f"{case.get_absolute_url()}messages/", {"submission": token(), "body": "Hi"}))

    assert page.response.status_code == 400
    assert "This case is finished; it takes no more messages." in page.flashes
    assert not Message.objects.exists()


def test_offer_above_the_order_amount_explains_on_the_offer_form_and_changes_nothing(client_as, open_case):
    before = footprint(open_case)

    page = Page(
        client_as("seller").post(
            action_url(open_case, "make_offer"), {"submission": token(), "kind": "partial_refund", "amount": "95.00"}
        )
    )

    assert page.response.status_code == 400
    offer_form = page.one("form", action=action_url(open_case, "make_offer"))
    assert [text_of(error) for error in select(offer_form, role="alert")] == ["At most the order amount, 80.00 EUR."]
    assert footprint(open_case) == before


def test_offer_on_a_closed_case_explains_and_changes_nothing(client_as, case_in):
    case = case_in("closed")
    before = footprint(case)

    page = Page(
        client_as("seller").post(
            action_url(case, "make_offer"), {"submission": token(), "kind": "partial_refund", "amount": "10.00"}
        )
    )

    assert page.response.status_code == 400
    assert page.flashes == ["This case is closed; that is not possible now."]
    assert footprint(case) == before


def test_escalate_before_the_wait_explains_and_changes_nothing(client_as, open_case):
    before = footprint(open_case)

    page = Page(client_as("buyer").post(action_url(open_case, "escalate"), {"submission": token()}))

    assert page.response.status_code == 400
    assert page.flashes == [
        "You can ask us to step in once the seller has had time to answer, or as soon as they decline."
    ]
    assert footprint(open_case) == before


# Double submits: the same form (same token) sent twice writes once


def test_case_file_sent_twice_opens_one_case(client_as, order, media_root):
    client = client_as("buyer")
    submission = token()

    first = file_case(client, order, submission=submission, files=[photo()])
    second = client.post(
        "/cases/new/",
        {"submission": submission, "order": order.external_id, **FILING, "evidence": [photo()]},
        follow=True,
    )

    case = Case.objects.get()
    assert first.url == case.get_absolute_url()
    assert second.redirect_chain == [(case.get_absolute_url(), 302)]
    assert "Your case was already opened." in Page(second).flashes
    assert case.evidence.count() == 1
    assert len(list((media_root / "evidence").iterdir())) == 1


def test_message_sent_twice_posts_once_and_tells_once(client_as, open_case, django_capture_on_commit_callbacks):
    client = client_as("buyer")
    data = {"submission": token(), "body": "Is there any news?"}

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{open_case.get_absolute_url()}messages/", data)
        second = client.post(f"{open_case.get_absolute_url()}messages/", data, follow=True)

    assert Message.objects.filter(case=open_case).count() == 1
    assert "That was already sent." in Page(second).flashes
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1


def test_offer_sent_twice_makes_one_offer(client_as, open_case, django_capture_on_commit_callbacks):
    client = client_as("seller")
    data = {"submission": token(), "kind": "partial_refund", "amount": "15.00"}

    with django_capture_on_commit_callbacks(execute=True):
        client.post(action_url(open_case, "make_offer"), data)
        second = client.post(action_url(open_case, "make_offer"), data, follow=True)

    offer = Offer.objects.get(case=open_case)
    assert (offer.status, offer.amount) == (Offer.Status.PENDING, Decimal("15.00"))
    assert "That was already sent." in Page(second).flashes
    assert Notification.objects.filter(event="make_offer").count() == 1


def test_evidence_sent_twice_stores_one_file(client_as, open_case, media_root):
    client = client_as("buyer")
    submission = token()

    client.post(f"{open_case.get_absolute_url()}evidence/", {"submission": submission, "files": [photo()]})
    second = client.post(
        f"{open_case.get_absolute_url()}evidence/", {"submission": submission, "files": [photo()]}, follow=True
    )

    assert Evidence.objects.filter(case=open_case).count() == 1
    assert len(list((media_root / "evidence").iterdir())) == 1
    assert "That was already sent." in Page(second).flashes
    assert FormSubmission.objects.count() == 1


# Only what the person may do now is on the page


def action_forms(page, case) -> set[str]:
    prefix = f"{case.get_absolute_url()}actions/"
    return {action[len(prefix) :].strip("/") for action in page.form_actions if action.startswith(prefix)}


def test_case_page_for_buyer_before_the_wait_shows_escalation_disabled_with_its_date(client_as, open_case):
    page = Page(client_as("buyer").get(open_case.get_absolute_url()))

    assert action_forms(page, open_case) == {"withdraw"}
    disabled = page.one("p", cls="disabled")
    button = page.one("button", disabled=None)
    assert text_of(button) == "Ask the platform to step in"
    when = open_case.buyer_may_escalate_at.strftime("%-d %b %Y, %H:%M UTC")
    assert f"You can ask us to step in from {when}" in text_of(disabled)


def test_case_page_for_buyer_after_the_wait_offers_escalation(client_as, open_case, time_machine):
    time_machine.move_to(open_case.buyer_may_escalate_at + timedelta(minutes=1))

    page = Page(client_as("buyer").get(open_case.get_absolute_url()))

    assert action_forms(page, open_case) == {"escalate", "withdraw"}
    assert not page.select("button", disabled=None)
    assert "Ask the platform to step in" in text_of(page.one("form", action=action_url(open_case, "escalate")))


def test_case_page_for_buyer_one_minute_before_the_wait_still_disables_escalation(client_as, open_case, time_machine):
    time_machine.move_to(open_case.buyer_may_escalate_at - timedelta(minutes=1))

    page = Page(client_as("buyer").get(open_case.get_absolute_url()))

    assert action_forms(page, open_case) == {"withdraw"}
    assert text_of(page.one("button", disabled=None)) == "Ask the platform to step in"


def test_case_page_for_seller_on_an_open_case_shows_offer_accept_and_decline(client_as, open_case):
    page = Page(client_as("seller").get(open_case.get_absolute_url()))

    assert action_forms(page, open_case) == {"make_offer", "accept_claim", "decline_claim"}
    assert not page.select("button", disabled=None)


def test_case_page_for_buyer_with_an_offer_shows_accept_and_decline(client_as, case_in):
    case = case_in("awaiting_buyer")

    page = Page(client_as("buyer").get(case.get_absolute_url()))

    assert action_forms(page, case) == {"accept_offer", "decline_offer", "withdraw"}
    assert "The seller's offer" in page.text and f"{OFFERED_AMOUNT} EUR" in page.text


def test_case_page_after_a_decline_lets_the_buyer_escalate_at_once(client_as, open_case):
    case = declined(open_case)

    page = Page(client_as("buyer").get(case.get_absolute_url()))

    assert action_forms(page, case) == {"escalate", "withdraw"}


def test_case_page_waiting_for_a_return_shows_the_return_form_to_the_buyer_and_confirm_to_the_seller(
    client_as, case_in
):
    case = case_in("awaiting_return")

    buyer_page = Page(client_as("buyer").get(case.get_absolute_url()))
    seller_page = Page(client_as("seller").get(case.get_absolute_url()))

    assert action_forms(buyer_page, case) == set()
    assert f"{case.get_absolute_url()}return/" in buyer_page.form_actions
    assert action_forms(seller_page, case) == {"confirm_return"}
    assert f"{case.get_absolute_url()}return/" not in seller_page.form_actions


@pytest.mark.parametrize("role", ["buyer", "seller", "agent"])
def test_case_page_for_a_closed_case_shows_no_action_forms(client_as, case_in, role):
    case = case_in("closed")

    page = Page(client_as(role).get(case.get_absolute_url()))

    case_forms = [action for action in page.form_actions if action.startswith(case.get_absolute_url())]
    rating = [f"{case.get_absolute_url()}rating/"] if role != "agent" else []
    assert case_forms == rating
    assert "What you can do now" not in page.text


def test_case_page_for_an_agent_shows_no_party_actions(client_as, case_in):
    case = case_in("escalated")

    page = Page(client_as("agent").get(case.get_absolute_url()))

    assert action_forms(page, case) == set()
    assert f"{case.get_absolute_url()}messages/" not in page.form_actions


# User text is shown as text


def test_message_with_markup_and_a_link_is_shown_escaped_and_not_linked(client_as, open_case):
    body = "<script>alert(1)</script> see https://evil.example"
    client_as("buyer").post(f"{open_case.get_absolute_url()}messages/", {"submission": token(), "body": body})

    page = Page(client_as("seller").get(open_case.get_absolute_url()))

    assert "&lt;script&gt;alert(1)&lt;/script&gt; see https://evil.example" in page.html
    assert "<script>alert(1)" not in page.html
    assert not [script for script in page.select("script") if "alert" in text_of(script)]
    assert not page.select("a", href="https://evil.example")
    assert body in text_of(page.one("p", cls="message-body"))


def test_case_description_and_offer_note_are_shown_escaped(client_as, order, seller):
    client = client_as("buyer")
    file_case(client, order, description='<img src=x onerror="alert(2)"> https://evil.example')
    case = Case.objects.get()
    services.offer_make(case=case, seller=seller, kind="replacement", note="<b>bold</b> https://evil.example")

    page = Page(client.get(case.get_absolute_url()))

    assert not page.select("img") and not page.select("b")
    assert not page.select("a", href="https://evil.example")
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt; https://evil.example" in page.html
    assert "&lt;b&gt;bold&lt;/b&gt; https://evil.example" in page.html
