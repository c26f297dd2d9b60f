"""Who may open each page and send each form: signed out → sign-in, not your case → 404 (never 403)."""

from decimal import Decimal
from urllib.parse import urlencode

import pytest

from disputes import services
from disputes.models import Case, Notification, Offer, Profile
from disputes.services.conversation import evidence_add
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.portal.conftest import ROLES
from tests.disputes.portal.helpers import PDF_BYTES, Page, attr, footprint, image_bytes, photo, token, upload

LOGIN = "sign-in"
OK, FORBIDDEN, NOT_FOUND = 200, 403, 404
DONE = "back to the case"  # the write went through and the person is sent back to the case page


def login_url(path: str) -> str:
    return "/accounts/login/?" + urlencode({"next": path}, safe="/")


def matrix(table: dict[str, dict[str, object]]):
    """Flatten {row: {role: expected}} into pytest params named `row-role`."""
    return [
        pytest.param(row, role, expected, id=f"{row}-{role}")
        for row, by_role in table.items()
        for role, expected in by_role.items()
    ]


def everyone(expected) -> dict[str, object]:
    return {"anonymous": LOGIN, **{role: expected for role in ROLES if role != "anonymous"}}


def case_roles(*, buyer, seller, agent, admin) -> dict[str, object]:
    """Strangers to the case get 404 whatever they try; the others as given."""
    return {
        "anonymous": LOGIN,
        "buyer": buyer,
        "other_buyer": NOT_FOUND,
        "seller": seller,
        "other_seller": NOT_FOUND,
        "agent": agent,
        "admin": admin,
    }


# Pages (GET)

PAGES = {
    "home": ("/", everyone(OK)),
    "orders": ("/orders/", everyone(OK)),
    "cases": ("/cases/", everyone(OK)),
    "file-a-case": ("/cases/new/?order={order}", everyone(OK)),
    "case-page": ("/cases/{ref}/", case_roles(buyer=OK, seller=OK, agent=OK, admin=OK)),
    "resolution-center": ("/seller/", everyone(OK)),
    "notifications": ("/notifications/", everyone(OK)),
    "settings": ("/account/", everyone(OK)),
}


@pytest.mark.parametrize("page, role, expected", matrix({name: by_role for name, (_, by_role) in PAGES.items()}))
def test_page_access_by_role(client_as, open_case, page, role, expected):
    path = PAGES[page][0].format(ref=open_case.reference, order=open_case.order.external_id)

    response = client_as(role).get(path)

    if expected == LOGIN:
        assert response.status_code == 302 and response.url == login_url(path)
        return
    assert response.status_code == expected
    if page == "case-page":
        shown = expected == OK
        assert ("Walnut desk lamp" in response.text) is shown
        assert ("The lamp arrived with a cracked shade." in response.text) is shown


@pytest.mark.parametrize(
    "path, role, sees_it",
    [
        ("/cases/", "buyer", True),
        ("/cases/", "other_buyer", False),
        ("/cases/", "seller", False),  # the buyer's list; the seller's is the resolution center
        ("/seller/", "seller", True),
        ("/seller/", "other_seller", False),
        ("/seller/", "buyer", False),
        ("/orders/", "buyer", True),
        ("/orders/", "other_buyer", False),
        ("/", "buyer", True),
        ("/", "other_buyer", False),
    ],
)
def test_case_lists_show_a_case_only_to_its_own_side(client_as, open_case, path, role, sees_it):
    page = Page(client_as(role).get(path))

    assert bool(page.links_to(open_case.get_absolute_url())) is sees_it
    assert (open_case.reference in page.text) is sees_it


def test_case_file_page_offers_only_the_buyers_own_orders(client_as, order, other_buyer):
    own_order = factories.order(buyer=other_buyer, item_title="Brass bookends")
    path = f"/cases/new/?order={order.external_id}"

    page = Page(client_as("other_buyer").get(path))

    assert [attr(option, "value") for option in page.select("option")] == [own_order.external_id]
    assert "Walnut desk lamp" not in page.text


def test_case_file_post_for_someone_elses_order_opens_no_case(client_as, order, policy, other_buyer):
    factories.order(buyer=other_buyer, item_title="Brass bookends")
    data = {
        "submission": token(),
        "order": order.external_id,
        "reason": "damaged",
        "requested_outcome": "partial_refund",
        "amount_claimed": "10.00",
        "description": "Not mine, but still.",
    }

    page = Page(client_as("other_buyer").post("/cases/new/", data))

    assert page.response.status_code == 200
    assert any("Select a valid choice" in alert for alert in page.alerts)
    assert not Case.objects.exists()


def test_case_file_post_signed_out_goes_to_sign_in_and_opens_no_case(client_as, order):
    response = client_as("anonymous").post("/cases/new/", {"order": order.external_id})

    assert response.status_code == 302 and response.url == login_url("/cases/new/")
    assert not Case.objects.exists()


# Forms (POST) on a case


def _declined(case):
    services.case_decline_claim(case=case, seller=case.seller, note="As described.")
    return Case.objects.get(pk=case.pk)


def _proposed(case, agent, senior):
    case = bring_to("in_mediation", case, agent=agent)
    services.proposal_make(case=case, agent=agent, kind="partial_refund", amount=Decimal("25.00"))
    return Case.objects.get(pk=case.pk)


def _state(name):
    return lambda case, agent, senior: bring_to(name, case, agent=agent, senior=senior)


NOTE = {"note": "Thanks."}
SELLER_ONLY = case_roles(buyer=FORBIDDEN, seller=DONE, agent=FORBIDDEN, admin=FORBIDDEN)
BUYER_ONLY = case_roles(buyer=DONE, seller=FORBIDDEN, agent=FORBIDDEN, admin=FORBIDDEN)
BOTH_PARTIES = case_roles(buyer=DONE, seller=DONE, agent=FORBIDDEN, admin=FORBIDDEN)
PARTIES_AND_STAFF = case_roles(buyer=DONE, seller=DONE, agent=DONE, admin=DONE)

# name: (case state prepared, URL under the case, form data, who may)
CASE_FORMS = {
    "make_offer": (_state("open"), "actions/make_offer/", {"kind": "partial_refund", "amount": "20.00"}, SELLER_ONLY),
    "accept_claim": (_state("open"), "actions/accept_claim/", {}, SELLER_ONLY),
    "decline_claim": (_state("open"), "actions/decline_claim/", NOTE, SELLER_ONLY),
    "accept_offer": (_state("awaiting_buyer"), "actions/accept_offer/", {}, BUYER_ONLY),
    "decline_offer": (_state("awaiting_buyer"), "actions/decline_offer/", NOTE, BUYER_ONLY),
    "escalate": (lambda case, agent, senior: _declined(case), "actions/escalate/", NOTE, BUYER_ONLY),
    "confirm_return": (_state("awaiting_return"), "actions/confirm_return/", {}, SELLER_ONLY),
    "appeal": (_state("resolved"), "actions/appeal/", {"grounds": "Please look again."}, BOTH_PARTIES),
    "withdraw": (_state("open"), "actions/withdraw/", NOTE, BUYER_ONLY),
    "message": (_state("open"), "messages/", {"body": "Any news?"}, PARTIES_AND_STAFF),
    "evidence": (_state("open"), "evidence/", {"files": photo, "description": "The shade"}, PARTIES_AND_STAFF),
    "return": (_state("awaiting_return"), "return/", {"carrier": "DHL", "tracking_number": "JD9"}, BUYER_ONLY),
    "proposal": (_proposed, "proposal/", {"answer": "accept"}, BOTH_PARTIES),
    "rating": (_state("resolved"), "rating/", {"score": "4", "comment": "Quick."}, BOTH_PARTIES),
}


@pytest.mark.parametrize("form, role, expected", matrix({name: row[3] for name, row in CASE_FORMS.items()}))
def test_case_form_post_by_role(client_as, open_case, agent, senior, form, role, expected):
    prepare, suffix, data, _ = CASE_FORMS[form]
    case = prepare(open_case, agent, senior)
    path = f"{case.get_absolute_url()}{suffix}"
    data = {"submission": token(), **{key: value() if callable(value) else value for key, value in data.items()}}
    before = footprint(case)

    response = client_as(role).post(path, data)

    if expected == DONE:
        assert response.status_code == 302 and response.url == case.get_absolute_url()
        assert footprint(case) != before
        return
    if expected == LOGIN:
        assert response.status_code == 302 and response.url == login_url(path)
    else:
        assert response.status_code == expected
    assert footprint(case) == before


@pytest.mark.parametrize("name", ["claim", "decide", "decide_appeal", "escalate_unanswered", "close", "nonsense"])
def test_case_action_that_is_not_a_partys_is_not_found(client_as, case_in, name):
    case = case_in("escalated")
    before = footprint(case)

    response = client_as("agent").post(f"{case.get_absolute_url()}actions/{name}/", {"submission": token()})

    assert response.status_code == 404
    assert footprint(case) == before


@pytest.mark.parametrize("suffix", ["actions/withdraw/", "messages/", "evidence/", "return/", "proposal/", "rating/"])
def test_case_form_url_read_with_get_is_refused(client_as, open_case, suffix):
    response = client_as("buyer").get(f"{open_case.get_absolute_url()}{suffix}")

    assert response.status_code == 405


def test_case_that_does_not_exist_is_not_found_even_for_agents(client_as, open_case):
    assert client_as("agent").get("/cases/MS-999999/").status_code == 404
    assert client_as("agent").get("/cases/not-a-reference/").status_code == 404


# Forms (POST) that are the person's own


@pytest.mark.parametrize("role, expected", everyone(DONE).items())
def test_notifications_read_post_by_role(client_as, people, open_case, role, expected):
    for person in people.values():
        if person is not None:
            Notification.objects.create(
                recipient=person, case=open_case, event="x", text="Hello", created_at=open_case.filed_at
            )

    response = client_as(role).post("/notifications/read/")

    if expected == LOGIN:
        assert response.status_code == 302 and response.url == login_url("/notifications/read/")
        assert Notification.objects.filter(read_at__isnull=True).count() == len(ROLES) - 1
        return
    assert response.status_code == 302 and response.url == "/notifications/"
    # Only the sender's own notices are marked read.
    assert list(Notification.objects.filter(read_at__isnull=False).values_list("recipient", flat=True)) == [
        people[role].pk
    ]


@pytest.mark.parametrize("role, expected", everyone(DONE).items())
def test_account_settings_post_by_role(client_as, people, role, expected):
    response = client_as(role).post("/account/", {"time_zone": "Europe/Berlin"})

    if expected == LOGIN:
        assert response.status_code == 302 and response.url == login_url("/account/")
        assert not Profile.objects.exists()
        return
    assert response.status_code == 302 and response.url == "/account/"
    assert list(Profile.objects.values_list("user", "time_zone")) == [(people[role].pk, "Europe/Berlin")]


def test_notification_read_does_not_touch_someone_elses_notice(client_as, buyer, seller, open_case):
    theirs = Notification.objects.create(
        recipient=seller, case=open_case, event="x", text="Hi", created_at=open_case.filed_at
    )

    client_as("buyer").post("/notifications/read/", {"notification": str(theirs.pk)})

    theirs.refresh_from_db()
    assert theirs.read_at is None


# The evidence file


def add_evidence(case):
    """A photo and a PDF, added by the buyer: [png, pdf]."""
    return evidence_add(
        case=case,
        uploader=case.buyer,
        files=[
            upload("shade.png", image_bytes("PNG"), "image/png"),
            upload("receipt.pdf", PDF_BYTES, "application/pdf"),
        ],
    )


@pytest.fixture
def evidence_pair(open_case):
    return add_evidence(open_case)


@pytest.mark.parametrize("kind", ["png", "pdf"])
@pytest.mark.parametrize("role, expected", case_roles(buyer=OK, seller=OK, agent=OK, admin=OK).items())
def test_evidence_file_served_only_to_parties_and_agents(client_as, evidence_pair, kind, role, expected):
    item = evidence_pair[0] if kind == "png" else evidence_pair[1]
    path = item.get_absolute_url()

    response = client_as(role).get(path)

    if expected == LOGIN:
        assert response.status_code == 302 and response.url == login_url(path)
        return
    assert response.status_code == expected
    if expected != OK:
        return
    body = b"".join(response.streaming_content)
    assert body == (image_bytes("PNG") if kind == "png" else PDF_BYTES)
    assert response["X-Content-Type-Options"] == "nosniff"
    if kind == "png":
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == 'inline; filename="shade.png"'
    else:
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="receipt.pdf"'


def test_evidence_file_of_another_case_is_not_found_through_your_own_case(client_as, open_case):
    foreign = add_evidence(factories.case(item_title="Copper kettle"))[0]

    response = client_as("buyer").get(f"{open_case.get_absolute_url()}evidence/{foreign.pk}/")

    assert response.status_code == 404


def test_offer_made_by_seller_is_kept_from_other_sellers_page(client_as, case_in):
    case = case_in("awaiting_buyer")
    assert Offer.objects.filter(case=case).exists()

    response = client_as("other_seller").get(case.get_absolute_url())

    assert response.status_code == 404
    assert "20.00 EUR" not in response.text
