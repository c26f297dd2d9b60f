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
def parties(buyer, other_buyer, seller, other_seller, agent):
    """The people every permission matrix asks about, by role; a suite's `people` adds its own."""
    return {"buyer": buyer, "other_buyer": other_buyer, "seller": seller, "other_seller": other_seller, "agent": agent}


@pytest.fixture
def order(policy, buyer, seller):
    return factories.order(buyer=buyer, seller=seller)


@pytest.fixture
def open_case(order):
    return factories.case(order_=order)


@pytest.fixture(autouse=True)
def empty_rate_limit_counters():
    """Every test starts with no rate-limit counts. On Redis only this desk's keys go: the channel
    layer shares the database, and flushing it would drop other tests' messages."""
    from django.conf import settings as django_settings
    from django.core.cache import cache

    config = django_settings.CACHES["default"]
    if config["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{config.get('KEY_PREFIX', '')}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def no_n_plus_one():
    """Any N+1 query in a test raises zeal's NPlusOneError (ZEAL_RAISE in tests/settings.py).
    A context variable: async tests and sync_to_async threads inherit it."""
    from zeal import zeal_context

    with zeal_context():
        yield
