"""Webhook endpoints and their delivery log in admin; the demo's marketplace service account."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from disputes.models import Case, WebhookDelivery, WebhookEndpoint
from disputes.permissions import is_agent_user, is_service_account
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_admin_adds_a_webhook_endpoint_with_its_events(admin_client):
    response = admin_client.post(
        "/admin/disputes/webhookendpoint/add/",
        {
            "url": "https://marketplace.example/hooks/desk",
            "description": "Payments",
            "events": ["case.filed", "case.resolved_with_refund"],
            "is_active": "on",
            "secret": "s3cret-s3cret",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["case.filed", "case.resolved_with_refund"]
    assert endpoint.wants("case.filed") and not endpoint.wants("case.state_changed")


def test_a_new_endpoint_gets_a_random_secret():
    first, second = (
        WebhookEndpoint.objects.create(url="https://a.example/"),
        WebhookEndpoint.objects.create(url="https://b.example/"),
    )

    assert len(first.secret) >= 40 and first.secret != second.secret


def test_the_delivery_log_is_read_only_in_admin(admin_client, open_case):
    endpoint = WebhookEndpoint.objects.create(url="https://marketplace.example/hooks", events=["case.filed"])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="case.filed", case=open_case, payload={"id": "x"}, created_at=timezone.now()
    )

    listing = admin_client.get("/admin/disputes/webhookdelivery/")
    page = admin_client.get(f"/admin/disputes/webhookdelivery/{delivery.pk}/change/")
    add = admin_client.get("/admin/disputes/webhookdelivery/add/")
    post = admin_client.post(f"/admin/disputes/webhookdelivery/{delivery.pk}/change/", {"status": "delivered"})

    assert listing.status_code == 200 and "case.filed" in listing.content.decode()
    assert page.status_code == 200 and "Save" not in page.content.decode()
    assert add.status_code == 403
    assert post.status_code == 403
    assert WebhookDelivery.objects.get().status == "pending"


def test_seed_demo_makes_the_marketplace_service_account_with_a_printed_token(settings):
    settings.DEBUG = True
    out = StringIO()

    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())

    user = get_user_model().objects.get(username="marketplace")
    token = Token.objects.get(user=user).key
    assert f"Authorization: Token {token}" in out.getvalue()
    assert is_service_account(user) and not is_agent_user(user)
    assert not user.has_usable_password()
    client = token_client(user)
    cases = client.get("/api/v1/cases/?page_size=200").json()["results"]
    assert len(cases) == Case.objects.count()
    refused = client.post(f"/api/v1/cases/{cases[0]['reference']}/messages/", {"body": "hi"}, format="json")
    assert refused.status_code == 403
