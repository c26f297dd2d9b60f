"""The case machine's fixtures: its policy, its frozen clock and everyone who might fire a move."""

from decimal import Decimal

import pytest

from disputes import services
from tests import factories
from tests.disputes.machine.rules import NOW


@pytest.fixture
def policy(db):
    """The factory policy with the automatic rule for unanswered claims switched on."""
    return factories.dispute_policy(auto_resolve_limit=Decimal("100.00"), auto_rule_seller_silent=True)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def people(parties, senior):
    """Everyone who might try a transition; `agent` is the one who claims cases in mediation."""
    return {
        **parties,
        "other_agent": factories.agent_user(username="other_agent"),
        "senior": senior,
        "system": services.system_user(),
    }
