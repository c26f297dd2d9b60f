from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from disputes.models import Case, Order
from disputes.permissions import is_agent_user, is_senior_agent_user


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_puts_cases_in_every_state_through_the_services(seeded):
    assert set(Case.objects.values_list("state", flat=True)) == set(Case.State.values)
    assert Case.objects.count() >= 20
    for case in Case.objects.all():
        rows = list(case.history.order_by("history_id"))
        assert rows[0].history_change_reason == "Case filed by the buyer"
        assert all(row.history_user_id and row.history_change_reason for row in rows)
        assert rows[-1].state == case.state


def test_seed_demo_creates_the_demo_logins_with_their_roles(seeded, settings):
    User = get_user_model()
    for username in ["buyer", "buyer2", "seller", "seller2", "agent", "senior", "admin"]:
        assert User.objects.get(username=username).check_password(settings.DEMO_PASSWORD)
        assert username in seeded
    assert is_agent_user(User.objects.get(username="agent"))
    assert not is_senior_agent_user(User.objects.get(username="agent"))
    assert is_senior_agent_user(User.objects.get(username="senior"))
    assert User.objects.get(username="admin").is_superuser
    assert not is_agent_user(User.objects.get(username="buyer"))


def test_seed_demo_twice_creates_nothing_new(seeded):
    counts = (Case.objects.count(), Order.objects.count(), get_user_model().objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Case.objects.count(), Order.objects.count(), get_user_model().objects.count()) == counts


def test_seed_demo_refuses_with_debug_off_unless_forced(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=StringIO())
    assert not Case.objects.exists()
    call_command("seed_demo", "--force", stdout=StringIO())
    assert Case.objects.exists()
