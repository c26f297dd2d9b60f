"""Hostile input: hypothesis settings that repeat in CI, a media folder per test, and the people
and cases the tests throw input at."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, settings
from zeal import zeal_context, zeal_ignore

from tests import factories
from tests.disputes.case_states import bring_to

# The same examples every run (CI is repeatable); no example database; few examples, so the folder
# stays well under a minute on SQLite. Each example runs in a savepoint the test rolls back
# (`rolled_back`), which is why function-scoped fixtures are fine here.
settings.register_profile(
    "hostile",
    derandomize=True,
    deadline=None,
    max_examples=30,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
HOSTILE = settings.get_profile("hostile")


class _RollBack(Exception):
    pass


@contextmanager
def rolled_back():
    """Run one example in a savepoint and undo whatever it wrote, so the next one starts clean.

    Each example also gets its own N+1 watch: the same pages read once per example are not N+1."""
    try:
        with zeal_context(), transaction.atomic():
            yield
            raise _RollBack
    except _RollBack:
        pass


def row_counts() -> dict[str, int]:
    """Rows in every table of the desk (history tables included): a refusal leaves them all as they were."""
    return {
        model._meta.label: model.objects.count()
        for app in ("disputes", "feedback")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Evidence goes to a folder of its own per test, never into the project's media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def generous_rate_limits(settings):
    """Many examples write as one person within a minute; the limits are not what is tested here."""
    settings.RATE_LIMITS = {"message": "100000/minute", "filing": "100000/hour", "upload": "100000/hour"}


@pytest.fixture
def signed_in():
    """`signed_in(user)`: that person's client, signed in once for the whole test."""
    clients: dict[int, Client] = {}

    def make(user) -> Client:
        if user.pk not in clients:
            clients[user.pk] = Client()
            with zeal_ignore():  # signing people in is setup, not a page under test
                clients[user.pk].force_login(user)
        return clients[user.pk]

    return make


@pytest.fixture
def mediated_case(open_case, agent):
    """The fixture case in mediation, `agent` assigned: every agent form is open on it."""
    with zeal_ignore():  # setup through several services, not what is under test
        return bring_to("in_mediation", open_case, agent=agent)


@pytest.fixture
def fresh_order(policy, buyer, seller):
    """Another order of the buyer's, with no case on it yet."""

    def make():
        return factories.order(buyer=buyer, seller=seller, delivered_days_ago=1)

    return make


EVIDENCE_DUE = timedelta(days=2)
