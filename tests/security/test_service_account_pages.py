"""The marketplace's service account ("Marketplace integrations") works through the API with its
token only: the sign-in forms refuse its password and say why, a session of it counts for nothing
on the pages and sockets, and its API access is as before."""

from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from disputes.backends import SERVICE_SIGN_IN_REFUSED
from marketplace_support.asgi import application
from tests import factories
from tests.api.conftest import service_account
from tests.disputes.portal.helpers import Page

PASSWORD = "pass-word-2026"  # every test user's password (tests/factories.py)
WRONG_PASSWORD = "Please enter a correct username and password."


@pytest.fixture
def service(db):
    return service_account()


def sign_in(client, username, password, url="/accounts/login/"):
    return client.post(url, {"username": username, "password": password, "next": "/"}, REMOTE_ADDR="10.0.0.7")


def signed_in_as(client) -> str | None:
    response = client.get("/account/")
    return None if response.status_code == 302 else response.wsgi_request.user.username


def test_service_account_sign_in_with_its_password_is_refused_with_the_reason(service):
    client = Client()

    page = Page(sign_in(client, "marketplace", PASSWORD))

    assert page.response.status_code == 200
    assert page.alerts == [SERVICE_SIGN_IN_REFUSED]
    assert "works through the API with its token" in page.text
    assert signed_in_as(client) is None
    assert get_user_model().objects.get(pk=service.pk).last_login is None


def test_service_account_with_a_wrong_password_gets_the_answer_anyone_gets(service, buyer):
    """Only the right password tells that this is the service account."""
    service_page = Page(sign_in(Client(), "marketplace", "not-it"))
    person_page = Page(sign_in(Client(), buyer.username, "not-it"))

    assert service_page.alerts == person_page.alerts
    assert WRONG_PASSWORD in service_page.alerts[0]
    assert SERVICE_SIGN_IN_REFUSED not in service_page.text


def test_a_person_still_signs_in(service, buyer):
    client = Client()

    response = sign_in(client, buyer.username, PASSWORD)

    assert response.status_code == 302 and response.url == "/"
    assert signed_in_as(client) == buyer.username


def test_admin_sign_in_refuses_the_service_account_with_the_reason(service):
    client = Client()

    page = Page(sign_in(client, "marketplace", PASSWORD, url="/admin/login/"))

    assert page.response.status_code == 200
    assert SERVICE_SIGN_IN_REFUSED in page.text
    assert client.get("/admin/").status_code == 302


PAGES = ["/", "/orders/", "/cases/", "/cases/{ref}/", "/seller/", "/notifications/", "/account/", "/console/"]


@pytest.mark.parametrize("path", PAGES)
def test_service_account_session_is_sent_to_sign_in_from_every_page(service, open_case, path):
    """A session made before its sign-in was refused (or by any other way) reads as signed out."""
    client = Client()
    client.force_login(service)
    path = path.format(ref=open_case.reference)

    response = client.get(path)

    assert response.status_code == 302
    assert response.url == "/accounts/login/?" + urlencode({"next": path}, safe="/")
    sign_in_page = Page(client.get(response.url))
    assert sign_in_page.one("h1").children == ["Sign in"]
    assert open_case.reference not in sign_in_page.text
    assert open_case.order.item_title not in sign_in_page.text


def test_service_account_session_writes_nothing_on_a_case(service, open_case):
    client = Client()
    client.force_login(service)

    response = client.post(f"/cases/{open_case.reference}/messages/", {"body": "Hello", "submission": "x"})

    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert not open_case.messages.exists()


async def _socket_close_code(path: str, cookie: str) -> int | None:
    socket = WebsocketCommunicator(
        application, path, headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())]
    )
    connected, _ = await socket.connect(timeout=3)
    try:
        await socket.send_json_to({"type": "ping"})
        first = await socket.receive_output(timeout=3)
        return first.get("code") if first["type"] == "websocket.close" else None
    finally:
        if connected:
            await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/cases/{ref}/", "/ws/console/queue/"])
def test_service_account_session_opens_no_socket(path):
    factories.dispute_policy()
    case = factories.case()
    client = Client()
    client.force_login(service_account())

    code = async_to_sync(_socket_close_code)(path.format(ref=case.reference), client.cookies["sessionid"].value)

    assert code == 4401  # not signed in


def test_service_account_reads_cases_and_writes_orders_with_its_token(service, open_case):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=service).key}")
    order = open_case.order

    cases = api.get("/api/v1/cases/")
    case = api.get(f"/api/v1/cases/{open_case.reference}/")
    shipped = api.post(f"/api/v1/orders/{order.external_id}/shipment/", {"tracking_number": "1Z999"}, format="json")

    assert cases.status_code == 200
    assert open_case.reference in [row["reference"] for row in cases.json()["results"]]
    assert case.status_code == 200 and case.json()["reference"] == open_case.reference
    assert shipped.status_code == 200
    order.refresh_from_db()
    assert order.tracking_number == "1Z999"
    assert order.history.latest().history_user == service
