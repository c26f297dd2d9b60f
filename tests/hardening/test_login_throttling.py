"""Sign-in throttling (django-axes): five wrong passwords for one username from one address lock
that pair for the cool-off, on the desk's sign-in page and the admin's alike."""

from datetime import timedelta

import pytest
import time_machine
from django.test import AsyncClient
from django.utils import timezone

from tests import factories

PASSWORD = "pass-word-2026"  # what tests.factories.UserFactory sets
SIGN_IN = "/accounts/login/"
WRONG = "enter a correct username and password"


@pytest.fixture
def bea(db):
    return factories.UserFactory(username="bea")


def sign_in(client, username, password, *, path=SIGN_IN, **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return client.get("/cases/").status_code == 200


def fail_five_times(client, username="bea", **extra):
    for attempt in range(1, 6):
        page = sign_in(client, username, "wrong-password", **extra)
        assert page.status_code == 200, f"attempt {attempt} was not answered with the form"
        assert WRONG in page.text, f"attempt {attempt}: {page.text[:500]}"


def test_five_wrong_passwords_lock_the_sixth_attempt_even_with_the_right_password(client, bea):
    fail_five_times(client)

    page = sign_in(client, "bea", PASSWORD)

    assert page.status_code == 429
    assert "Sign-in paused" in page.text
    assert "too many wrong passwords for <strong>bea</strong>" in page.text
    assert "in about 15 minutes" in page.text
    assert 14 * 60 < int(page["Retry-After"]) <= 15 * 60
    assert not signed_in(client)


def test_lock_ends_after_the_cool_off_and_the_right_password_then_works(client, bea):
    fail_five_times(client)
    locked_at = timezone.now()

    with time_machine.travel(locked_at + timedelta(minutes=14), tick=False):
        assert sign_in(client, "bea", PASSWORD).status_code == 429
    with time_machine.travel(locked_at + timedelta(minutes=15, seconds=5), tick=False):
        response = sign_in(client, "bea", PASSWORD)

        assert response.status_code == 302 and response.url == "/"
        assert signed_in(client)


def test_attempts_while_locked_do_not_push_the_end_of_the_lock_further(client, bea):
    fail_five_times(client)
    locked_at = timezone.now()
    with time_machine.travel(locked_at + timedelta(minutes=10), tick=False):
        assert sign_in(client, "bea", "wrong-password").status_code == 429

    with time_machine.travel(locked_at + timedelta(minutes=15, seconds=5), tick=False):
        assert sign_in(client, "bea", PASSWORD).status_code == 302


def test_another_username_from_the_same_address_is_not_locked(client, bea):
    factories.UserFactory(username="otto")
    fail_five_times(client)

    response = sign_in(client, "otto", PASSWORD)

    assert response.status_code == 302 and signed_in(client)


def test_the_same_username_from_another_address_is_not_locked(client, bea):
    fail_five_times(client, REMOTE_ADDR="198.51.100.7")

    response = sign_in(client, "bea", PASSWORD, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 302


def test_a_successful_sign_in_resets_the_count(client, bea):
    for _ in range(4):
        assert WRONG in sign_in(client, "bea", "wrong-password").text
    assert sign_in(client, "bea", PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    for _ in range(4):
        assert WRONG in sign_in(client, "bea", "wrong-password").text
    response = sign_in(client, "bea", PASSWORD)

    assert response.status_code == 302 and signed_in(client)


def test_the_admin_sign_in_is_throttled_too(client, db):
    factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    path = "/admin/login/?next=/admin/"
    for _ in range(5):
        page = sign_in(client, "root", "wrong-password", path=path)
        assert page.status_code == 200 and "Please enter the correct username and password" in page.text

    page = sign_in(client, "root", PASSWORD, path=path)

    assert page.status_code == 429 and "Sign-in paused" in page.text
    assert client.get("/admin/").status_code == 302  # still signed out


def test_failures_on_the_admin_and_the_desk_count_together(client, bea):
    for _ in range(3):
        sign_in(client, "bea", "wrong-password", path="/admin/login/")
    for _ in range(2):
        assert WRONG in sign_in(client, "bea", "wrong-password").text

    assert sign_in(client, "bea", PASSWORD).status_code == 429


@pytest.mark.django_db(transaction=True)
async def test_lockout_page_under_asgi_as_daphne_serves_it():
    """Under ASGI, axes calls the lockout handler with other arguments; the page must be the same."""
    from asgiref.sync import sync_to_async

    await sync_to_async(factories.UserFactory)(username="bea")
    client = AsyncClient()
    for _ in range(5):
        page = await client.post(SIGN_IN, {"username": "bea", "password": "wrong-password"})
        assert page.status_code == 200 and WRONG in page.content.decode()

    page = await client.post(SIGN_IN, {"username": "bea", "password": PASSWORD})

    assert page.status_code == 429 and "Sign-in paused" in page.content.decode()
    assert int(page["Retry-After"]) > 14 * 60
