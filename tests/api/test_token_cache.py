"""Whose API token is whose, and the signed-in person's row, come from the cache between calls
(disputes.api.authentication, disputes.backends): no query for them on a repeated call, yet a
revoked token, a deactivated account and a changed password take effect on the very next call."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from tests.api.conftest import service_account, token_client
from tests.disputes.test_cached import BROKEN_CACHE


def tables_read(client, url) -> tuple[int, set[str]]:
    with CaptureQueriesContext(connection) as captured:
        status = client.get(url).status_code
    tables = ("authtoken_token", "auth_user")
    return status, {table for query in captured for table in tables if f'FROM "{table}"' in query["sql"]}


def test_a_repeated_call_reads_neither_the_token_nor_the_user(db):
    client = token_client(service_account())
    assert tables_read(client, "/api/v1/cases/") == (200, {"authtoken_token", "auth_user"})

    assert tables_read(client, "/api/v1/cases/") == (200, set())


def test_a_revoked_token_is_refused_on_the_next_call(db):
    service = service_account()
    client = token_client(service)
    assert client.get("/api/v1/cases/").status_code == 200

    Token.objects.filter(user=service).delete()

    response = client.get("/api/v1/cases/")
    assert response.status_code == 401 and "Invalid token" in response.json()["detail"]


def test_a_replaced_token_works_and_the_old_one_does_not(db):
    service = service_account()
    old = token_client(service)
    assert old.get("/api/v1/cases/").status_code == 200

    Token.objects.filter(user=service).delete()
    new = token_client(service)

    assert new.get("/api/v1/cases/").status_code == 200
    assert old.get("/api/v1/cases/").status_code == 401


def test_a_deactivated_account_is_refused_on_the_next_call(db):
    service = service_account()
    client = token_client(service)
    assert client.get("/api/v1/cases/").status_code == 200

    service.is_active = False
    service.save()

    response = client.get("/api/v1/cases/")
    assert response.status_code == 401 and "inactive" in response.json()["detail"]


def test_with_the_cache_down_tokens_are_read_from_the_database(db, settings):
    client = token_client(service_account())
    settings.CACHES = BROKEN_CACHE

    assert client.get("/api/v1/cases/").status_code == 200
    assert Client(HTTP_AUTHORIZATION="Token not-a-token").get("/api/v1/cases/").status_code == 401


def test_a_page_reads_the_signed_in_person_from_the_cache_and_sees_them_change(buyer):
    client = Client()
    client.force_login(buyer)
    client.get("/cases/")
    assert tables_read(client, "/cases/")[1] == set()

    buyer.set_password("a-new-pass-word-2026")
    buyer.save()  # signs out their other sessions, this one among them

    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_deactivated_person_is_signed_out_on_their_next_page(buyer):
    client = Client()
    client.force_login(buyer)
    assert client.get("/cases/").status_code == 200

    buyer.is_active = False
    buyer.save()

    assert client.get("/cases/").status_code == 302
