import pytest
from django.test import Client
from django.utils import timezone

from tests.disputes.case_states import bring_to

ROLES = ["anonymous", "buyer", "other_buyer", "seller", "other_seller", "agent", "admin"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Evidence goes to a folder of its own per test, never into the project's media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def people(parties, admin_user):
    return {"anonymous": None, **parties, "admin": admin_user}


@pytest.fixture
def client_as(people):
    """A test client signed in as one of `ROLES` (`anonymous` stays signed out)."""

    def make(role: str) -> Client:
        client = Client()
        if people[role] is not None:
            client.force_login(people[role])
        return client

    return make


@pytest.fixture
def case_in(open_case, agent, senior):
    """The fixture order's case brought to a state through the services."""

    def make(state: str):
        return bring_to(state, open_case, agent=agent, senior=senior)

    return make


@pytest.fixture
def server_zone():
    """The time zone middleware leaves the request's zone active in the thread; start and end in UTC."""
    timezone.deactivate()
    yield
    timezone.deactivate()
