"""What every request reads is kept in the cache (disputes/cached.py): a person's permissions,
their time zone and the queue's counts. Kept, they cost no query; changed, they show at once;
with the cache gone, they are read from the database."""

from datetime import timedelta

import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from disputes import cached, services
from disputes.models import Case
from disputes.permissions import is_agent_user, is_senior_agent_user
from disputes.roles import SENIOR_AGENTS, SUPPORT_AGENTS
from disputes.selectors.queue import QUEUE_COUNT_SECONDS
from disputes.services.accounts import profile_update
from tests import factories
from tests.disputes.case_states import bring_to
from tests.disputes.portal.helpers import Page, select, text_of

User = get_user_model()
LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cached-tests"}}
BROKEN_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def fresh(user):
    """The person as the next request loads them: no permissions remembered on the object."""
    return User.objects.get(pk=user.pk)


def permission_queries(user) -> int:
    with CaptureQueriesContext(connection) as captured:
        is_agent_user(user)
    return len(captured)


# Permissions


def test_a_persons_permissions_are_read_once_then_kept(agent):
    assert permission_queries(fresh(agent)) > 0
    assert permission_queries(fresh(agent)) == 0
    assert is_agent_user(fresh(agent))


def test_joining_or_leaving_a_group_shows_on_the_next_request(buyer):
    assert not is_agent_user(fresh(buyer))

    buyer.groups.add(Group.objects.get(name=SUPPORT_AGENTS))
    assert is_agent_user(fresh(buyer))

    buyer.groups.remove(Group.objects.get(name=SUPPORT_AGENTS))
    assert not is_agent_user(fresh(buyer))

    Group.objects.get(name=SENIOR_AGENTS).user_set.add(buyer)  # from the group's side
    assert is_senior_agent_user(fresh(buyer))
    Group.objects.get(name=SENIOR_AGENTS).user_set.clear()
    assert not is_senior_agent_user(fresh(buyer))


def test_a_group_losing_a_permission_takes_it_from_its_members(agent):
    assert is_agent_user(fresh(agent))
    mediate = Permission.objects.get(codename="mediate_case")

    Group.objects.get(name=SUPPORT_AGENTS).permissions.remove(mediate)
    assert not is_agent_user(fresh(agent))

    Group.objects.get(name=SUPPORT_AGENTS).permissions.add(mediate)
    assert is_agent_user(fresh(agent))


def test_own_permissions_the_superuser_flag_and_a_deleted_group_show_at_once(buyer, agent):
    assert not is_agent_user(fresh(buyer))
    buyer.user_permissions.add(Permission.objects.get(codename="mediate_case"))
    assert is_agent_user(fresh(buyer))

    admin = factories.UserFactory(username="to-be-admin")
    assert not fresh(admin).has_perm("disputes.decide_appeal")
    admin.is_superuser = True
    admin.save()
    assert fresh(admin).has_perm("disputes.decide_appeal")

    assert is_agent_user(fresh(agent))
    Group.objects.get(name=SUPPORT_AGENTS).delete()
    assert not is_agent_user(fresh(agent))


def test_a_sign_in_does_not_forget_everyones_permissions(agent, buyer, client):
    buyer.set_password("a-long-enough-password")
    buyer.save()
    is_agent_user(fresh(agent))
    signed_in = client.post("/accounts/login/", {"username": buyer.username, "password": "a-long-enough-password"})
    assert signed_in.status_code == 302  # it saved the buyer's last_login
    assert permission_queries(fresh(agent)) == 0


def test_with_the_cache_down_permissions_come_from_the_database(agent, buyer, settings):
    settings.CACHES = BROKEN_CACHE
    assert is_agent_user(fresh(agent))
    assert not is_agent_user(fresh(buyer))
    buyer.groups.add(Group.objects.get(name=SUPPORT_AGENTS))  # forgetting fails quietly
    assert is_agent_user(fresh(buyer))


# Time zone


def test_a_changed_time_zone_shows_on_the_next_page(policy, buyer, client):
    case = factories.case(order_=factories.order(buyer=buyer))
    client.force_login(buyer)
    profile_update(user=buyer, time_zone="Asia/Tokyo")
    assert "JST" in client.get(case.get_absolute_url()).text
    with CaptureQueriesContext(connection) as captured:
        assert "JST" in client.get(case.get_absolute_url()).text
    assert not any("disputes_profile" in query["sql"] for query in captured.captured_queries)

    profile_update(user=buyer, time_zone="America/Lima")
    page = client.get(case.get_absolute_url()).text
    assert "-05" in page and "JST" not in page


# Queue counts


def escalated(buyer, seller, agent) -> Case:
    return bring_to("escalated", factories.case(order_=factories.order(buyer=buyer, seller=seller)), agent=agent)


def tabs(client, query="") -> dict[str, int]:
    nav = Page(client.get(f"/console/{query}")).one("nav", aria_label="Queue by state")
    return {
        text_of(link).rsplit(" ", 1)[0]: int(text_of(select(link, "span", cls="count")[0])) for link in select(nav, "a")
    }


def summary(client, query="") -> str:
    return text_of(Page(client.get(f"/console/{query}")).one("p", cls="queue-summary"))


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_queue_counts_are_kept_until_a_case_changes(policy, buyer, seller, agent):
    client = signed_in(agent)
    first = escalated(buyer, seller, agent)
    assert tabs(client)["All"] == 1
    with CaptureQueriesContext(connection) as captured:
        client.get("/console/")
    assert not any("COUNT(" in query["sql"] and "disputes_case" in query["sql"] for query in captured.captured_queries)

    escalated(buyer, seller, agent)
    assert tabs(client)["All"] == 2

    services.case_claim(case=Case.objects.get(pk=first.pk), agent=agent)
    counts = tabs(client)
    assert (counts["Waiting for an agent"], counts["In mediation"]) == (1, 1)


def test_queue_counts_are_kept_for_each_agent_and_filter_apart(policy, buyer, seller, agent, senior):
    mine = escalated(buyer, seller, agent)
    escalated(buyer, seller, agent)
    services.case_claim(case=Case.objects.get(pk=mine.pk), agent=agent)

    assert summary(signed_in(agent), "?mine=on").startswith("1 case")
    assert summary(signed_in(senior), "?mine=on").startswith("0 cases")
    assert summary(signed_in(agent)).startswith("2 cases")


def test_the_overdue_count_catches_up_with_the_clock_within_seconds(policy, buyer, seller, agent, settings):
    settings.CACHES = LOCAL_CACHE  # the clock below moves for this process, not for a Redis server
    client = signed_in(agent)
    case = escalated(buyer, seller, agent)
    with time_machine.travel(case.agent_decision_due_at - timedelta(seconds=1), tick=False) as clock:
        assert "overdue" not in summary(client)
        clock.shift(2)
        assert "overdue" not in summary(client)  # kept a few seconds
        clock.shift(QUEUE_COUNT_SECONDS)
        assert "1 overdue" in summary(client)


# The mechanism


def test_a_value_computed_before_a_commit_is_not_served_after_it(transactional_db):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cached.remembered("topic", "k", compute, seconds=60) == 1
    assert cached.remembered("topic", "k", compute, seconds=60) == 1
    with transaction.atomic():
        cached.forget("topic")
        # Read meanwhile, as another process would: from the rows as they were before the commit.
        assert cached.remembered("topic", "k", compute, seconds=60) == 2
        assert cached.remembered("topic", "k", compute, seconds=60) == 2
    assert cached.remembered("topic", "k", compute, seconds=60) == 3


def test_values_expire(db, settings):
    settings.CACHES = LOCAL_CACHE  # the clock below moves for this process, not for a Redis server
    with time_machine.travel("2026-01-01 00:00Z", tick=False) as clock:
        assert cached.remembered("topic", "k", lambda: "old", seconds=5) == "old"
        clock.shift(4)
        assert cached.remembered("topic", "k", lambda: "new", seconds=5) == "old"
        clock.shift(2)
        assert cached.remembered("topic", "k", lambda: "new", seconds=5) == "new"


def test_a_lost_version_never_brings_back_an_old_value(db):
    assert cached.remembered("topic", "k", lambda: "old", seconds=60) == "old"
    cache.delete("cached-version:topic")  # evicted
    assert cached.remembered("topic", "k", lambda: "new", seconds=60) == "new"
    assert cached.remembered("topic", "k", lambda: "newer", seconds=60) == "new"


def test_a_cache_outage_is_logged_once_a_minute_not_once_a_request(agent, settings, caplog, monkeypatch):
    settings.CACHES = BROKEN_CACHE
    monkeypatch.setattr(cached, "_warned_at", float("-inf"))
    with caplog.at_level("WARNING", logger="disputes.cached"):
        for _ in range(5):
            assert is_agent_user(fresh(agent))
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 1
