"""What the case machine's tests share: the rules the cases pin, the clock's moment, and firing a
transition by name as the adapters do (the people and the clock are conftest.py's fixtures)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from disputes import services
from disputes.models import Case

S = Case.State
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)

# The rules `factories.dispute_policy` sets, which every case here pins when it is filed.
SELLER_ANSWER = timedelta(hours=72)
BUYER_WAIT = timedelta(hours=72)
AGENT_DECISION = timedelta(hours=48)
RETURN_SHIPPING = timedelta(days=10)
APPEAL_WINDOW = timedelta(days=7)
BUYER_ANSWER = timedelta(hours=120)
LONG_AFTER = timedelta(days=60)  # every clock condition holds by then

CLAIMED = Decimal("30.00")  # what factories.case claims, on an order of 80.00
ORDER_AMOUNT = Decimal("80.00")
PROPOSED = Decimal("25.00")
RATIONALE = "Photos show the shade cracked in transit; disputes policy 4.2."
GROUNDS = "The agent ignored my photos."

ACTORS = ["buyer", "seller", "other_buyer", "other_seller", "agent", "other_agent", "senior", "system"]

PARAMS = {
    "make_offer": {"kind": "partial_refund", "amount": PROPOSED},
    "decide": {"outcome": "partial_refund", "amount": PROPOSED, "rationale": RATIONALE},
    "decide_appeal": {"outcome": "full_refund", "amount": None, "rationale": RATIONALE},
    "appeal": {"grounds": GROUNDS},
}


def fire(name: str, case: Case, actor, **params):
    """Fire a transition by name the way adapters do; the proposal is adopted by answering it."""
    if name == "adopt_proposal":
        return services.proposal_answer(case=case, party=actor, accept=True)
    return services.case_transition(case=case, actor=actor, name=name, **{**PARAMS.get(name, {}), **params})
