"""The process_deadlines tests' disputes policy."""

import pytest

from tests import factories


@pytest.fixture
def policy(db, clock):
    """The disputes policy, in force since Sunday, with reminders off."""
    return factories.dispute_policy(reminder_hours=0)
