"""Twenty identical requests at the same moment against a live server: money moves once.

Each request runs in its own thread with its own HTTP connection; the live server answers each in
a thread of its own with its own database connection, so the requests really meet at the row locks.
Whatever the path (the API, the console's decision form, a retried POST with or without an
Idempotency-Key), exactly one request changes the case, writes one decision, one refund instruction
and one history row; the others get a clear refusal and no server error.
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from disputes import services
from disputes.models import Case, Decision, RefundInstruction
from tests import factories
from tests.reliability.conftest import CSRF_SECRET, NEEDS_POSTGRES, session_headers, token_headers

pytestmark = [pytest.mark.postgres, NEEDS_POSTGRES, pytest.mark.django_db(transaction=True)]

CONTESTANTS = 20
TIMEOUT = 60  # seconds for one request: twenty wait on one row lock in turn


def all_at_once(send, count: int = CONTESTANTS) -> list[httpx.Response]:
    """Call send(client) from `count` threads released together; each has its own connection."""
    barrier = threading.Barrier(count, timeout=TIMEOUT)

    def contestant(_):
        with httpx.Client(timeout=TIMEOUT) as client:
            barrier.wait()
            return send(client)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(contestant, range(count)))


def flash_messages(response: httpx.Response) -> list[str]:
    """The messages a redirect leaves for the next page (Django's cookie message storage)."""
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    cookie = response.cookies.get(CookieStorage.cookie_name)
    return [str(message) for message in (CookieStorage(HttpRequest())._decode(cookie) or [])] if cookie else []


def statuses(responses) -> list[int]:
    return sorted(response.status_code for response in responses)


@pytest.fixture
def parties(db):
    factories.dispute_policy()
    buyer = factories.UserFactory(username="race_buyer")
    seller = factories.UserFactory(username="race_seller")
    agent = factories.agent_user(username="race_agent")
    case = factories.case(order_=factories.order(buyer=buyer, seller=seller, amount=Decimal("80.00")))
    return case, buyer, seller, agent


@pytest.fixture
def case_in_mediation(parties):
    case, buyer, seller, agent = parties
    services.case_decline_claim(case=case, seller=seller, note="Item was fine when shipped")
    services.case_escalate(case=case, buyer=buyer)
    services.case_claim(case=Case.objects.get(pk=case.pk), agent=agent)
    case = Case.objects.get(pk=case.pk)
    assert case.state == Case.State.IN_MEDIATION
    return case, agent


@pytest.fixture
def case_with_offer(parties):
    case, buyer, seller, agent = parties
    services.offer_make(case=case, seller=seller, kind="partial_refund", amount=Decimal("25.00"))
    case = Case.objects.get(pk=case.pk)
    assert case.state == Case.State.AWAITING_BUYER
    return case, buyer


def assert_settled_once(case: Case, *, state: str, amount: Decimal, decisions: int) -> None:
    case.refresh_from_db()
    assert case.state == state
    assert Decision.objects.filter(case=case).count() == decisions
    refunds = list(RefundInstruction.objects.filter(case=case))
    assert [refund.amount for refund in refunds] == [amount], refunds
    assert case.history.filter(state=state).count() == 1, list(case.history.values_list("state", flat=True))


def assert_api_conflicts(refusals, *, state: str) -> None:
    for response in refusals:
        assert response.status_code == 409, response.text
        body = response.json()
        assert body["code"] in ("transition_refused", "case_changed"), body
        assert body["detail"]
        assert body["state"] in (state, Case.State.IN_MEDIATION, Case.State.AWAITING_BUYER), body


def test_twenty_api_decisions_at_once_give_one_decision_and_one_refund(live_server, case_in_mediation):
    case, agent = case_in_mediation
    url = f"{live_server.url}/api/v1/cases/{case.reference}/transitions/"
    headers = token_headers(agent)
    decision = {"name": "decide", "outcome": "full_refund", "rationale": "Cracked shade on arrival (photo)."}

    responses = all_at_once(lambda client: client.post(url, json=decision, headers=headers))

    assert statuses(responses) == [200] + [409] * (CONTESTANTS - 1), [r.text[:300] for r in responses]
    [won] = [r for r in responses if r.status_code == 200]
    assert won.json()["state"] == Case.State.RESOLVED
    assert_api_conflicts([r for r in responses if r.status_code != 200], state=Case.State.RESOLVED)
    assert_settled_once(case, state=Case.State.RESOLVED, amount=case.order.amount, decisions=1)


def test_twenty_console_decisions_from_twenty_tabs_give_one_decision(live_server, case_in_mediation):
    """Twenty open tabs, each with its own form: one decides, the others see why not."""
    case, agent = case_in_mediation
    url = f"{live_server.url}/console/cases/{case.reference}/decision/"
    headers = session_headers(agent)

    def decide(client):
        form = {
            "csrfmiddlewaretoken": CSRF_SECRET,
            "submission": str(uuid.uuid4()),
            "outcome": "partial_refund",
            "amount": "30.00",
            "rationale": "Partial refund for the cracked shade.",
        }
        return client.post(url, data=form, headers=headers)

    responses = all_at_once(decide)

    assert statuses(responses) == [302] + [400] * (CONTESTANTS - 1), [r.text[-300:] for r in responses]
    for refused in (r for r in responses if r.status_code == 400):
        assert "resolved" in refused.text.lower() or "changed" in refused.text.lower(), refused.text[-2000:]
    assert_settled_once(case, state=Case.State.RESOLVED, amount=Decimal("30.00"), decisions=1)


def test_twenty_clicks_on_one_console_decision_form_write_once(live_server, case_in_mediation):
    """One form sent twenty times (a double click, a refresh): one decision, the rest 'already sent'."""
    case, agent = case_in_mediation
    url = f"{live_server.url}/console/cases/{case.reference}/decision/"
    headers = session_headers(agent)
    form = {
        "csrfmiddlewaretoken": CSRF_SECRET,
        "submission": str(uuid.uuid4()),
        "outcome": "full_refund",
        "rationale": "Cracked shade on arrival.",
    }

    responses = all_at_once(lambda client: client.post(url, data=form, headers=headers))

    assert statuses(responses) == [302] * CONTESTANTS, [r.text[-300:] for r in responses]
    assert_settled_once(case, state=Case.State.RESOLVED, amount=case.order.amount, decisions=1)
    flashes = sorted(flash_messages(response) for response in responses)
    assert flashes == [["Decided. Both parties are told."]] + [["That was already sent."]] * (CONTESTANTS - 1)


def test_twenty_buyers_accepting_one_offer_at_once_refund_once(live_server, case_with_offer):
    case, buyer = case_with_offer
    url = f"{live_server.url}/api/v1/cases/{case.reference}/transitions/"
    headers = token_headers(buyer)

    responses = all_at_once(lambda client: client.post(url, json={"name": "accept_offer"}, headers=headers))

    assert statuses(responses) == [200] + [409] * (CONTESTANTS - 1), [r.text[:300] for r in responses]
    assert_api_conflicts([r for r in responses if r.status_code != 200], state=Case.State.RESOLVED)
    assert_settled_once(case, state=Case.State.RESOLVED, amount=Decimal("25.00"), decisions=0)


def test_twenty_sellers_accepting_one_claim_at_once_refund_once(live_server, parties):
    case, _buyer, seller, _agent = parties
    url = f"{live_server.url}/api/v1/cases/{case.reference}/transitions/"
    headers = token_headers(seller)

    responses = all_at_once(lambda client: client.post(url, json={"name": "accept_claim"}, headers=headers))

    assert statuses(responses) == [200] + [409] * (CONTESTANTS - 1), [r.text[:300] for r in responses]
    assert_api_conflicts([r for r in responses if r.status_code != 200], state=Case.State.RESOLVED)
    assert_settled_once(case, state=Case.State.RESOLVED, amount=case.amount_claimed, decisions=0)


def test_twenty_retries_with_one_idempotency_key_answer_the_first_result(live_server, case_with_offer):
    """A client retrying one request under one key: one write, and every answer is that write's."""
    case, buyer = case_with_offer
    url = f"{live_server.url}/api/v1/cases/{case.reference}/transitions/"
    headers = {**token_headers(buyer), "Idempotency-Key": f"accept-{uuid.uuid4()}"}

    responses = all_at_once(lambda client: client.post(url, json={"name": "accept_offer"}, headers=headers))

    assert statuses(responses) == [200] * CONTESTANTS, [r.text[:300] for r in responses]
    replayed = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == CONTESTANTS - 1
    assert {r.json()["state"] for r in responses} == {Case.State.RESOLVED}
    assert_settled_once(case, state=Case.State.RESOLVED, amount=Decimal("25.00"), decisions=0)


def test_twenty_retries_with_twenty_idempotency_keys_are_one_write_and_conflicts(live_server, case_with_offer):
    case, buyer = case_with_offer
    url = f"{live_server.url}/api/v1/cases/{case.reference}/transitions/"
    auth = token_headers(buyer)

    def accept(client):
        return client.post(url, json={"name": "accept_offer"}, headers={**auth, "Idempotency-Key": str(uuid.uuid4())})

    responses = all_at_once(accept)

    assert statuses(responses) == [200] + [409] * (CONTESTANTS - 1), [r.text[:300] for r in responses]
    assert_api_conflicts([r for r in responses if r.status_code != 200], state=Case.State.RESOLVED)
    assert_settled_once(case, state=Case.State.RESOLVED, amount=Decimal("25.00"), decisions=0)
