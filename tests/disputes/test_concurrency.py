"""Two people acting on the same case (or order) at the same moment, on real row locks.

Each contestant runs in its own thread with its own database connection, loads what a request
would load, waits at a barrier, then calls the service. Data is committed before the threads
start (transaction=True), and every thread closes its connection when it is done.
"""

import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections

from disputes import services
from disputes.exceptions import FilingRefused, TransitionRefused
from disputes.models import Case, Decision, Order, Outcome, RefundInstruction
from tests import factories

User = get_user_model()

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            f"needs PostgreSQL row locks (SELECT ... FOR UPDATE) and concurrent writers; "
            f"the database is {connection.vendor} (set DATABASE_URL to a PostgreSQL database)"
        ),
    ),
    pytest.mark.django_db(transaction=True),
]

THREAD_TIMEOUT = 30


def race(*contestants):
    """Run each contestant(barrier) in its own thread; return [("ok", value) | ("error", exc)]."""
    barrier = threading.Barrier(len(contestants), timeout=THREAD_TIMEOUT)
    results: list[tuple[str, object] | None] = [None] * len(contestants)

    def run(index, contestant):
        try:
            results[index] = ("ok", contestant(barrier))
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(contestants)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a contestant is stuck (a lock never released?)"
    return results


def split(results):
    won = [value for kind, value in results if kind == "ok"]
    lost = [value for kind, value in results if kind == "error"]
    return won, lost


@pytest.fixture
def parties():
    factories.dispute_policy()
    buyer = factories.UserFactory(username="race_buyer")
    seller = factories.UserFactory(username="race_seller")
    return buyer, seller


@pytest.fixture
def case_in_mediation(parties):
    buyer, seller = parties
    agent = factories.agent_user(username="race_agent")
    case = factories.case(order_=factories.order(buyer=buyer, seller=seller, amount=Decimal("80.00")))
    case = services.case_decline_claim(case=case, seller=seller, note="Item was fine when shipped")
    case = services.case_escalate(case=case, buyer=buyer)
    case = services.case_claim(case=case, agent=agent)
    assert case.state == Case.State.IN_MEDIATION
    return case, agent


def test_two_decisions_at_once_give_one_decision(case_in_mediation):
    case, agent = case_in_mediation
    choices = {
        "first tab": (Outcome.FULL_REFUND, None, "First tab: the shade was cracked on arrival (photo)."),
        "second tab": (Outcome.PARTIAL_REFUND, Decimal("25.00"), "Second tab: partial refund for the shade."),
    }

    def deciding(outcome, amount, rationale):
        def contestant(barrier):
            # What each request would load on its own connection.
            mine = Case.objects.get(pk=case.pk)
            me = User.objects.get(pk=agent.pk)
            barrier.wait()
            return services.case_decide(case=mine, agent=me, outcome=outcome, amount=amount, rationale=rationale)

        return contestant

    results = race(*(deciding(*choice) for choice in choices.values()))

    won, lost = split(results)
    assert len(won) == 1 and len(lost) == 1, results
    decision = won[0]
    refusal = lost[0]
    assert isinstance(refusal, TransitionRefused), repr(refusal)  # CaseChanged is a subclass

    winner = next(c for c in choices.values() if c[2] == decision.rationale)
    loser = next(c for c in choices.values() if c is not winner)

    assert list(Decision.objects.filter(case=case)) == [decision]
    assert decision.outcome == winner[0]

    history = case.history.all()
    assert history.filter(history_change_reason__contains=winner[2]).count() == 1
    assert not history.filter(history_change_reason__contains=loser[2]).exists()
    assert history.filter(state=Case.State.RESOLVED).count() == 1

    refunds = list(RefundInstruction.objects.filter(case=case))
    assert len(refunds) <= 1
    assert [r.amount for r in refunds] == [winner[1] or case.order.amount]

    case.refresh_from_db()
    assert case.state == Case.State.RESOLVED
    assert case.outcome == winner[0]


def test_two_claims_at_once_give_one_agent(parties):
    buyer, seller = parties
    agents = [factories.agent_user(username="race_agent_a"), factories.agent_user(username="race_agent_b")]
    case = factories.case(order_=factories.order(buyer=buyer, seller=seller))
    case = services.case_decline_claim(case=case, seller=seller)
    case = services.case_escalate(case=case, buyer=buyer)

    def claiming(agent):
        def contestant(barrier):
            mine = Case.objects.get(pk=case.pk)
            me = User.objects.get(pk=agent.pk)
            barrier.wait()
            return services.case_claim(case=mine, agent=me)

        return contestant

    results = race(*(claiming(agent) for agent in agents))

    won, lost = split(results)
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], TransitionRefused), repr(lost[0])
    case.refresh_from_db()
    assert case.state == Case.State.IN_MEDIATION
    assert case.agent_id == won[0].agent_id
    assert case.history.filter(state=Case.State.IN_MEDIATION).count() == 1


def test_two_filings_on_one_order_at_once_give_one_case(parties):
    buyer, seller = parties
    order = factories.order(buyer=buyer, seller=seller)

    def filing(description):
        def contestant(barrier):
            mine = Order.objects.get(pk=order.pk)
            me = User.objects.get(pk=buyer.pk)
            barrier.wait()
            return services.case_file(
                buyer=me,
                order=mine,
                reason="not_as_described",
                requested_outcome="partial_refund",
                amount_claimed=Decimal("30.00"),
                description=description,
            )

        return contestant

    results = race(filing("Filed from the phone."), filing("Filed from the laptop."))

    won, lost = split(results)
    assert len(won) == 1 and len(lost) == 1, results
    refusal = lost[0]
    assert isinstance(refusal, FilingRefused), repr(refusal)
    assert "already has an open case" in " ".join(refusal.errors.get("order", []))
    assert list(Case.objects.filter(order=order)) == [won[0]]
