"""Reading a request's facts ahead (disputes.cached.reading_ahead): a signed-in page asks the cache
once for the person's row, permissions, zone, unread notices and availability, and a fact changed
in the middle of the request is read afresh, never served as it was read ahead."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from disputes import cached
from disputes.models import AgentStatus, Notification
from tests import factories
from tests.disputes.portal.helpers import Page, select, text_of


@pytest.fixture
def cache_reads(monkeypatch):
    """How many times the cache was read (each read is one round trip to a shared cache)."""
    reads = []
    read = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys, **kwargs: reads.append(list(keys)) or read(keys, **kwargs))
    return reads


def counter():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    return compute


def test_facts_read_ahead_are_served_without_asking_the_cache_again(db, cache_reads):
    compute = counter()
    assert cached.remembered("topic", "k", compute, seconds=60) == 1
    cache_reads.clear()

    with cached.reading_ahead([("topic", "k"), ("other", "")]):
        assert cached.remembered("topic", "k", compute, seconds=60) == 1
        assert cached.remembered("topic", "k", compute, seconds=60) == 1

    assert len(cache_reads) == 1


def test_a_fact_the_cache_did_not_hold_is_computed_once_in_the_request(db, cache_reads):
    compute = counter()
    with cached.reading_ahead([("topic", "k")]):
        assert cached.remembered("topic", "k", compute, seconds=60) == 1
        assert cached.remembered("topic", "k", compute, seconds=60) == 1
    assert len(cache_reads) == 1
    assert cached.remembered("topic", "k", compute, seconds=60) == 1  # and kept for the next request


def test_a_fact_forgotten_in_the_request_is_read_afresh(db):
    compute = counter()
    assert cached.remembered("topic", "k", compute, seconds=60) == 1

    with cached.reading_ahead([("topic", "k")]):
        cached.forget("topic")
        assert cached.remembered("topic", "k", compute, seconds=60) == 2


def test_a_fact_not_read_ahead_is_asked_for_as_before(db, cache_reads):
    with cached.reading_ahead([("topic", "k")]):
        assert cached.remembered("elsewhere", "k", lambda: "computed", seconds=60) == "computed"
    assert len(cache_reads) == 2


def test_a_signed_in_page_reads_the_persons_facts_in_one_round_trip(policy, cache_reads, django_assert_num_queries):
    agent = factories.agent_user(username="agent-x")
    AgentStatus.objects.create(agent=agent, is_available=True)
    client = Client()
    client.force_login(agent)
    client.get("/console/")  # each fact computed once, and kept
    cache_reads.clear()

    with django_assert_num_queries(2):  # the session and the queue's rows: the person came from the cache
        page = Page(client.get("/console/"))

    assert len(cache_reads) == 2  # the person's facts, then the queue's counts
    assert "available" in text_of(page.one(id="availability"))


def test_a_notice_shows_on_the_next_page(policy, seller):
    """The count of unread notices read ahead is the one kept after the last notice."""
    client = Client()
    client.force_login(seller)
    assert not select(Page(client.get("/seller/cases/")).one("a", cls="notifications-link"), "span", cls="count")

    Notification.objects.create(recipient=seller, event="case_filed", text="A case opened.", created_at=timezone.now())

    [count] = select(Page(client.get("/seller/cases/")).one("a", cls="notifications-link"), "span", cls="count")
    assert text_of(count).startswith("1")
