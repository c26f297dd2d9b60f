"""The case workspace: everything needed to decide on one page, in a bounded number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from disputes import services
from disputes.models import Case, CaseViewer
from disputes.services.conversation import evidence_add, message_post
from feedback.services import survey_answer
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import Page, attr, photo, select, text_of


def shown(moment) -> str:
    return timezone.localtime(moment).strftime("%-d %b %Y, %H:%M %Z")


def section(page, heading_id):
    return page.one("section", aria_labelledby=heading_id)


def facts(element) -> dict[str, str]:
    """A <dl class="facts"> as {term: description}."""
    [dl] = select(element, "dl", cls="facts")
    terms = [text_of(dt) for dt in select(dl, "dt")]
    return dict(zip(terms, [text_of(dd) for dd in select(dl, "dd")], strict=True))


@pytest.fixture
def mediated(policy, buyer, seller, agent, evidence_media):
    """A case in mediation with `agent`, a photo from the buyer, messages and a note."""
    order = factories.order(buyer=buyer, seller=seller, carrier="PostNL", tracking_number="3SABC123")
    case = bring_to("in_mediation", factories.case(order_=order), agent=agent)
    evidence_add(case=case, uploader=buyer, files=[photo("cracked.png")], description="The crack")
    message_post(case=case, author=buyer, body="Here is the photo.")
    message_post(case=case, author=agent, body="Buyer's photo looks genuine.", internal=True)
    return Case.objects.get(pk=case.pk)


def test_workspace_shows_the_order_payment_and_shipment(console_client, mediated):
    order = mediated.order

    page = Page(console_client("agent").get(f"/console/cases/{mediated.reference}/"))

    assert facts(section(page, "order-heading")) == {
        "Order": f"{order.external_id} · Delivered",
        "Item": "Walnut desk lamp",
        "Paid": f"80.00 EUR · {shown(order.placed_at)}",
        "Carrier": "PostNL",
        "Tracking": "3SABC123",
        "Shipped": shown(order.shipped_at),
        "Delivered": shown(order.delivered_at),
    }
    claim = facts(section(page, "claim-heading"))
    assert claim["Asked for"] == "Partial refund, 30.00 EUR"
    assert "The lamp arrived with a cracked shade." in text_of(section(page, "claim-heading"))


def test_workspace_links_the_evidence_to_its_file(console_client, mediated):
    item = mediated.evidence.get()

    page = Page(console_client("agent").get(f"/console/cases/{mediated.reference}/"))

    evidence = section(page, "evidence-heading")
    [link] = select(evidence, "a")
    assert attr(link, "href") == f"/cases/{mediated.reference}/evidence/{item.pk}/"
    assert "cracked.png" in text_of(link) and "from the buyer" in text_of(evidence)
    assert console_client("agent").get(attr(link, "href")).status_code == 200


def test_workspace_timeline_has_the_whole_history_and_marks_internal_notes(console_client, mediated):
    page = Page(console_client("senior").get(f"/console/cases/{mediated.reference}/"))

    timeline = page.one("ol", cls="timeline")
    changes = [text_of(entry) for entry in select(timeline, "li", cls="change")]
    assert [
        any(reason in change for change in changes)
        for reason in (
            "Case filed by the buyer",
            "Seller declined the claim",
            "Buyer asked the platform to step in",
            "Agent took the case for mediation",
        )
    ] == [True] * 4
    messages = select(timeline, "li", cls="message")
    assert [("internal" in attr(entry, "class"), "Internal note" in text_of(entry)) for entry in messages] == [
        (False, False),
        (True, True),
    ]
    assert select(timeline, "li", cls="evidence")


def test_workspace_shows_both_parties_past_cases_feedback_and_the_sellers_dispute_rate(
    console_client, policy, buyer, seller, other_seller, agent
):
    earlier = bring_to(
        "resolved", factories.case(order_=factories.order(buyer=buyer, seller=seller, item_title="Old kettle"))
    )
    survey_answer(case=earlier, respondent=buyer, score=4)
    elsewhere = factories.case(order_=factories.order(buyer=buyer, seller=other_seller, item_title="Other shop's mug"))
    factories.order(buyer=factories.UserFactory(), seller=seller)  # an order without a case
    factories.order(buyer=factories.UserFactory(), seller=seller)
    case = bring_to("in_mediation", factories.case(order_=factories.order(buyer=buyer, seller=seller)), agent=agent)

    page = Page(console_client("agent").get(f"/console/cases/{case.reference}/"))

    buyer_card = section(page, "buyer-heading")
    assert facts(buyer_card) == {
        "Username": "buyer",
        "Cases as buyer": "3",
        "Trade feedback": "No trade feedback yet",
        "Rated our handling": "4.0 / 5 over 1 case",
    }
    past = [text_of(item) for item in select(buyer_card, "li")]
    assert past == [
        f"{elsewhere.reference} · Other shop's mug · Waiting for the seller",
        f"{earlier.reference} · Old kettle · Resolved: Partial refund",
    ]
    seller_card = section(page, "seller-heading")
    assert facts(seller_card) == {
        "Username": "seller",
        "Cases as seller": "2",
        "Dispute rate": "50% (2 cases on 4 orders)",
        "Trade feedback": "No trade feedback yet",
        "Rated our handling": "Has not rated a case",
    }
    assert [text_of(item) for item in select(seller_card, "li")] == [
        f"{earlier.reference} · Old kettle · Resolved: Partial refund"
    ]


def test_workspace_shows_the_pinned_rules_not_the_current_policy(console_client, mediated, admin_user):
    from policies.models import Policy
    from policies.services import policy_save

    policy = Policy.objects.get(slug="disputes")
    policy.agent_decision_hours = 12
    policy_save(policy=policy, actor=admin_user, reason="Faster decisions")

    page = Page(console_client("agent").get(f"/console/cases/{mediated.reference}/"))

    rules = section(page, "rules-heading")
    assert "version 1" in text_of(rules)
    assert facts(rules)["We decide in"] == "2 days"
    assert facts(rules)["Seller answers in"] == "3 days"


def test_workspace_lists_evidence_requests_with_their_state(console_client, mediated, agent):
    services.evidence_request_create(
        case=mediated,
        agent=agent,
        party=mediated.seller,
        note="Proof of posting",
        due_at=timezone.now() + timedelta(days=2),
    )

    page = Page(console_client("agent").get(f"/console/cases/{mediated.reference}/"))

    requests = text_of(section(page, "requests-heading"))
    assert "From the seller" in requests and "Outstanding" in requests and "Proof of posting" in requests


def test_workspace_says_who_else_has_the_case_open(console_client, mediated, agent, senior):
    now = timezone.now()
    CaseViewer.objects.create(case=mediated, agent=senior, channel_name="senior-tab", connected_at=now)
    CaseViewer.objects.create(case=mediated, agent=agent, channel_name="agent-tab", connected_at=now)

    agent_page = Page(console_client("agent").get(f"/console/cases/{mediated.reference}/"))
    senior_page = Page(console_client("senior").get(f"/console/cases/{mediated.reference}/"))

    assert text_of(agent_page.one("p", cls="presence")) == "Also open by: senior."
    assert text_of(senior_page.one("p", cls="presence")) == "Also open by: agent."
    CaseViewer.objects.all().delete()
    alone = Page(console_client("agent").get(f"/console/cases/{mediated.reference}/"))
    assert text_of(alone.one("p", cls="presence")) == "No other agent has this case open."


def test_workspace_carries_what_live_updates_need(console_client, mediated):
    page = Page(console_client("agent").get(f"/console/cases/{mediated.reference}/"))

    room = page.one(data_live_case=mediated.reference)
    assert attr(room, "data-last-message-id") == str(mediated.messages.order_by("-pk").first().pk)  # the note
    assert attr(room, "data-live-audience") == "agents"
    assert attr(room, "data-live-self") == "agent"
    assert '"in_mediation": "In mediation"' in attr(room, "data-live-states")
    assert [attr(form, "data-internal") for form in page.select("form", data_live_compose="")] == [None, "true"]
    scripts = [attr(script, "src") for script in page.select("script")]
    assert scripts[-2:] == ["/static/js/live.js", "/static/js/live-case.js"]  # the room needs the socket first


def test_party_page_carries_the_last_message_it_shows_not_the_internal_note(console_client, mediated):
    page = Page(console_client("buyer").get(mediated.get_absolute_url()))

    room = page.one(data_live_case=mediated.reference)
    public = mediated.messages.filter(is_internal=False).order_by("-pk").first()
    assert attr(room, "data-last-message-id") == str(public.pk)
    assert attr(room, "data-live-audience") == "party"
    assert page.select("form", data_live_compose="")


def grow(case, agent, how_many):
    """More of everything the workspace lists: messages, notes, history rows, evidence, past cases."""
    for n in range(how_many):
        message_post(case=case, author=case.buyer, body=f"Message {n}")
        message_post(case=case, author=agent, body=f"Note {n}", internal=True)
        services.evidence_request_create(
            case=case, agent=agent, party=case.seller, note=f"Need {n}", due_at=timezone.now() + timedelta(days=1)
        )
        factories.case(order_=factories.order(buyer=case.buyer, seller=case.seller, item_title=f"Past {n}"))
    evidence_add(case=case, uploader=case.buyer, files=[photo(f"more-{n}.png") for n in range(how_many)])


def test_workspace_queries_do_not_grow_with_rows(console_client, mediated, agent, django_assert_max_num_queries):
    client = console_client("agent")
    url = f"/console/cases/{mediated.reference}/"
    bound = 27 + 4  # + 4: both parties' feedback scores, the policy in force, the seller's performance (2)

    with django_assert_max_num_queries(bound):
        one = Page(client.get(url))
    grow(mediated, agent, 12)
    with django_assert_max_num_queries(bound):
        many = Page(client.get(url))

    assert len(many.select("li", cls="message")) == len(one.select("li", cls="message")) + 24
    assert len(many.select("li", cls="change")) > len(one.select("li", cls="change")) + 10
