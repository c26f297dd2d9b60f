"""Fixtures of the service tests: the console's (escalations by hand) and the offer, refund,
return and proposal tests' (see money_paths.py)."""

import pytest

from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.services.money_paths import NOW, S


@pytest.fixture
def clock(time_machine):
    """The clock, standing at NOW until a test moves it."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def mediated_case(open_case, agent):
    return bring_to(S.IN_MEDIATION, open_case, agent=agent)


@pytest.fixture
def return_case(order):
    """A case whose buyer asked to send the item back for a refund of the claimed amount."""
    return factories.case(order_=order, requested_outcome="return_and_refund")


@pytest.fixture
def by_hand(settings, tmp_path):
    """Escalations wait in the queue unless a test turns automatic assignment on."""
    settings.AUTO_ASSIGN_ESCALATIONS = False
    settings.MEDIA_ROOT = tmp_path / "media"
