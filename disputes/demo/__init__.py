"""Demo data: people, a dispute policy, orders and cases in every state.

Every case is brought to its state through the services, so its history is real. Running
it again changes nothing that exists: users keep their rows (their password is reset to the
demo password), and a scenario whose order exists is skipped.
"""

from disputes.demo.scenarios import SCENARIOS, Scenario
from disputes.demo.seed import (
    CANNED_REPLIES,
    DISPUTES_POLICY_TEXT,
    MARKETPLACE_USERNAME,
    OTHER_POLICIES,
    PEOPLE,
    SPARE_ORDERS,
    seed_demo,
)

__all__ = [
    "CANNED_REPLIES",
    "DISPUTES_POLICY_TEXT",
    "MARKETPLACE_USERNAME",
    "OTHER_POLICIES",
    "PEOPLE",
    "SCENARIOS",
    "SPARE_ORDERS",
    "Scenario",
    "seed_demo",
]
