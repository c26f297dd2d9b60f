"""Who may open each console page and send each console form.

Signed out → sign-in; signed in but not an agent → 403 on the queue's pages, and on a case's pages
a 404, as for any case that is not yours (whether the case exists or not); an agent → the page, or
the action when the service allows it to this agent, else 403.
"""

from urllib.parse import urlencode

import pytest

from disputes import services
from disputes.models import AgentStatus, CannedReply, Case, EvidenceRequest, Message, Offer
from tests import factories
from tests.disputes.case_states import bring_to, footprint
from tests.disputes.console.conftest import CONSOLE_ROLES
from tests.disputes.portal.helpers import Page, text_of, token

LOGIN, OK, FORBIDDEN, NOT_FOUND = "sign-in", 200, 403, 404
DONE = "done"  # the write went through and the agent is sent on (to the workspace or the queue)
NON_AGENTS = ["buyer", "other_buyer", "seller", "other_seller"]


def login_url(path: str) -> str:
    return "/accounts/login/?" + urlencode({"next": path}, safe="/")


def roles(*, agent, senior, admin, others=FORBIDDEN) -> dict[str, object]:
    return {
        "anonymous": LOGIN,
        **dict.fromkeys(NON_AGENTS, others),
        "agent": agent,
        "senior": senior,
        "admin": admin,
    }


def matrix(table):
    return [
        pytest.param(row, role, expected, id=f"{row}-{role}")
        for row, by_role in table.items()
        for role, expected in by_role.items()
    ]


def on_a_case(by_role: dict) -> dict:
    """The same, on one case's console page: a person who is not an agent does not find it."""
    return {role: NOT_FOUND if role in NON_AGENTS else expected for role, expected in by_role.items()}


ALL_AGENTS = roles(agent=OK, senior=OK, admin=OK)

PAGES = {
    "queue": ("/console/", ALL_AGENTS),
    "queue-filtered": ("/console/?state=escalated&unassigned=on&reason=not_as_described", ALL_AGENTS),
    "queue-fragment": ("/console/?fragment=1", ALL_AGENTS),
    "workspace": ("/console/cases/{ref}/", on_a_case(ALL_AGENTS)),
    "workspace-of-no-case": (
        "/console/cases/MS-999999/",
        roles(agent=NOT_FOUND, senior=NOT_FOUND, admin=NOT_FOUND, others=NOT_FOUND),
    ),
}


@pytest.mark.parametrize("page, role, expected", matrix({name: by_role for name, (_, by_role) in PAGES.items()}))
def test_console_page_access_by_role(console_client, case_at, page, role, expected):
    case = case_at("escalated")
    path = PAGES[page][0].format(ref=case.reference)

    response = console_client(role).get(path)

    if expected == LOGIN:
        assert response.status_code == 302 and response.url == login_url(path)
        return
    assert response.status_code == expected
    shown = expected == OK and page != "workspace-of-no-case"
    assert (case.reference in response.text) is shown
    assert ("Walnut desk lamp" in response.text) is shown


def _assigned_appeal(case, agent, senior):
    case = bring_to("appealed", case, agent=agent, senior=senior)
    services.appeal_claim(case=case, agent=senior)
    return Case.objects.get(pk=case.pk)


def _state(name):
    return lambda case, agent, senior: bring_to(name, case, agent=agent, senior=senior)


ASSIGNED_ONLY = roles(agent=DONE, senior=FORBIDDEN, admin=FORBIDDEN)  # the case is in mediation with `agent`
ANY_AGENT = roles(agent=DONE, senior=DONE, admin=DONE)
SENIORS = roles(agent=FORBIDDEN, senior=DONE, admin=DONE)

# name: (case prepared, URL, form data, who may)
FORMS = {
    "take-next": (_state("escalated"), "/console/take-next/", {}, ANY_AGENT),
    "availability": (_state("open"), "/console/availability/", {"available": "1"}, ANY_AGENT),
    "claim": (_state("escalated"), "/console/cases/{ref}/claim/", {}, on_a_case(ANY_AGENT)),
    "take-appeal": (_state("appealed"), "/console/cases/{ref}/appeal/take/", {}, on_a_case(SENIORS)),
    "message": (
        _state("in_mediation"), "/console/cases/{ref}/messages/", {"body": "Hello both."}, on_a_case(ANY_AGENT)
    ),
    "note": (
        _state("in_mediation"), "/console/cases/{ref}/notes/", {"body": "Seller seems honest."}, on_a_case(ANY_AGENT)
    ),
    "evidence-request": (
        _state("in_mediation"),
        "/console/cases/{ref}/evidence-requests/",
        {"party": "buyer", "note": "A photo of the box, please.", "due_at": "2099-01-01T12:00"},
        on_a_case(ASSIGNED_ONLY),
    ),
    "propose": (
        _state("in_mediation"),
        "/console/cases/{ref}/proposal/",
        {"kind": "partial_refund", "amount": "25.00", "note": "Fair given the photos."},
        on_a_case(ASSIGNED_ONLY),
    ),
    "decide": (
        _state("in_mediation"),
        "/console/cases/{ref}/decision/",
        {"outcome": "no_action", "rationale": "Disputes policy 4.2: the crack was in the listing."},
        on_a_case(ASSIGNED_ONLY),
    ),
    "decide-appeal": (
        _assigned_appeal,
        "/console/cases/{ref}/appeal/decision/",
        {"outcome": "full_refund", "rationale": "Disputes policy 6: the listing hid the defect."},
        on_a_case(roles(agent=FORBIDDEN, senior=DONE, admin=FORBIDDEN)),  # only the senior agent who took it
    ),
    "reassign": (
        _state("in_mediation"), "/console/cases/{ref}/reassign/", {"agent": "{senior}"}, on_a_case(ANY_AGENT)
    ),
}


def console_footprint(case) -> dict:
    return {
        **footprint(case),
        "agent": Case.objects.get(pk=case.pk).agent_id,
        "messages": Message.objects.filter(case=case).count(),
        "requests": EvidenceRequest.objects.filter(case=case).count(),
        "offers": Offer.objects.filter(case=case).count(),
        "available": list(AgentStatus.objects.filter(is_available=True).values_list("agent", flat=True)),
    }


@pytest.mark.parametrize("form, role, expected", matrix({name: row[3] for name, row in FORMS.items()}))
def test_console_form_post_by_role(console_client, console_people, open_case, agent, senior, form, role, expected):
    prepare, path, data, _ = FORMS[form]
    case = prepare(open_case, agent, senior)
    path = path.format(ref=case.reference)
    data = {"submission": token(), **{key: value.format(senior=senior.pk) for key, value in data.items()}}
    before = console_footprint(case)

    response = console_client(role).post(path, data)

    if expected == LOGIN:
        assert response.status_code == 302 and response.url == login_url(path)
    elif expected == DONE:
        assert response.status_code == 302, response.text[:500]
        assert response.url in (f"/console/cases/{case.reference}/", "/console/")
        assert console_footprint(case) != before
        return
    else:
        assert response.status_code == expected
        assert case.reference not in response.text
    assert console_footprint(case) == before


@pytest.mark.parametrize("role, expected", on_a_case(roles(agent=OK, senior=OK, admin=OK)).items())
def test_canned_reply_post_by_role(console_client, case_at, role, expected):
    case = case_at("in_mediation")
    reply = CannedReply.objects.create(title="Greeting", body="Hello {buyer_name}, about {reference}.")
    path = f"/console/cases/{case.reference}/canned/"

    response = console_client(role).post(path, {"reply": reply.pk})

    if expected == LOGIN:
        assert response.status_code == 302 and response.url == login_url(path)
        return
    assert response.status_code == expected
    assert ("Hello buyer, about" in response.text) is (expected == OK)
    if expected == OK:
        assert "Hello buyer, about" in text_of(Page(response).one("textarea", id="message-body"))


@pytest.mark.parametrize(
    "path",
    [
        "/console/take-next/",
        "/console/availability/",
        "/console/cases/{ref}/claim/",
        "/console/cases/{ref}/appeal/take/",
        "/console/cases/{ref}/messages/",
        "/console/cases/{ref}/notes/",
        "/console/cases/{ref}/canned/",
        "/console/cases/{ref}/evidence-requests/",
        "/console/cases/{ref}/proposal/",
        "/console/cases/{ref}/decision/",
        "/console/cases/{ref}/appeal/decision/",
        "/console/cases/{ref}/reassign/",
    ],
)
def test_console_form_url_read_with_get_is_refused(console_client, open_case, path):
    response = console_client("agent").get(path.format(ref=open_case.reference))

    assert response.status_code == 405


def test_console_form_of_a_case_that_does_not_exist_is_not_found_for_everyone_signed_in(console_client):
    data = {"submission": token(), "body": "Hello"}

    assert console_client("agent").post("/console/cases/MS-999999/notes/", data).status_code == 404
    assert console_client("buyer").post("/console/cases/MS-999999/notes/", data).status_code == 404


@pytest.mark.parametrize("role", NON_AGENTS)
def test_console_case_page_of_a_case_that_exists_reads_as_one_that_does_not(console_client, case_at, role):
    """Nothing tells a person who is not an agent whether a reference is a real case."""
    case = case_at("escalated")

    real = console_client(role).get(f"/console/cases/{case.reference}/")
    made_up = console_client(role).get("/console/cases/MS-999999/")

    assert real.status_code == made_up.status_code == 404
    assert Page(real).text.replace(case.reference, "MS-999999") == Page(made_up).text
    assert case.reference not in real.text


def test_agent_who_is_a_party_to_a_case_cannot_open_it_in_the_console(console_client, policy, agent, seller):
    own = factories.case(order_=factories.order(buyer=agent, seller=seller, item_title="Agent's own kettle"))
    services.case_decline_claim(case=own, seller=seller)
    services.case_escalate(case=own, buyer=agent)

    assert console_client("agent").get(f"/console/cases/{own.reference}/").status_code == 404
    queue = console_client("agent").get("/console/")
    assert own.reference not in queue.text
    response = console_client("agent").post(
        f"/console/cases/{own.reference}/notes/", {"submission": token(), "body": "x"}
    )
    assert response.status_code == 404
    assert not Message.objects.filter(case=own).exists()


@pytest.mark.parametrize("role, shown", [(role, role in ("agent", "senior", "admin")) for role in CONSOLE_ROLES[1:]])
def test_header_links_to_the_console_for_agents_only(console_client, role, shown):
    page = Page(console_client(role).get("/"))

    assert bool(page.links_to("/console/")) is shown
