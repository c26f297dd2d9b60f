"""Fixtures for the console's page tests: people in every role, clients signed in as them."""

import pytest
from django.test import Client
from django.utils import timezone

from tests.disputes.case_states import bring_to
from tests.disputes.console.sockets import desk, open_case_tx, sockets  # noqa: F401 (the socket tests' fixtures)

CONSOLE_ROLES = ["anonymous", "buyer", "other_buyer", "seller", "other_seller", "agent", "senior", "admin"]


@pytest.fixture
def evidence_media(settings, tmp_path):
    """Evidence goes to a folder of its own, never into the project's media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def console_people(buyer, seller, other_buyer, other_seller, agent, senior, admin_user):
    return {
        "anonymous": None,
        "buyer": buyer,
        "other_buyer": other_buyer,
        "seller": seller,
        "other_seller": other_seller,
        "agent": agent,
        "senior": senior,
        "admin": admin_user,
    }


@pytest.fixture
def console_client(console_people):
    """`console_client(role)`: a test client signed in as one of CONSOLE_ROLES (anonymous: signed out)."""

    def make(role: str) -> Client:
        client = Client()
        if console_people[role] is not None:
            client.force_login(console_people[role])
        return client

    return make


@pytest.fixture
def case_at(open_case, agent, senior):
    """The fixture order's case brought to a state through the services (`agent` claims it)."""

    def make(state: str):
        return bring_to(state, open_case, agent=agent, senior=senior)

    return make


@pytest.fixture(autouse=True)
def server_zone():
    """The time zone middleware leaves the request's zone active in the thread; start and end in UTC."""
    timezone.deactivate()
    yield
    timezone.deactivate()


@pytest.fixture
def as_agent(console_client):
    return console_client("agent")


@pytest.fixture
def as_senior(console_client):
    return console_client("senior")
