import pytest

from tests import factories


@pytest.fixture
def policy(db):
    return factories.dispute_policy()


@pytest.fixture
def buyer(db):
    return factories.UserFactory(username="buyer")


@pytest.fixture
def seller(db):
    return factories.UserFactory(username="seller")


@pytest.fixture
def other_buyer(db):
    return factories.UserFactory(username="other_buyer")


@pytest.fixture
def other_seller(db):
    return factories.UserFactory(username="other_seller")


@pytest.fixture
def agent(db):
    return factories.agent_user(username="agent")


@pytest.fixture
def senior(db):
    return factories.senior_agent_user(username="senior")


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def order(policy, buyer, seller):
    return factories.order(buyer=buyer, seller=seller)


@pytest.fixture
def open_case(order):
    return factories.case(order_=order)
