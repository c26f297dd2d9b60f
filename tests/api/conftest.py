"""The API's tests: clients for every role, signed in with their own token, and one case between
a buyer and a seller that the other people have nothing to do with."""

import io
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from disputes.models import Case, Evidence, Order
from disputes.roles import MARKETPLACE_INTEGRATIONS
from disputes.services.conversation import evidence_add
from tests import factories

ROLES = ["anonymous", "buyer", "other_buyer", "seller", "other_seller", "agent", "service"]


def service_account(username: str = "marketplace"):
    """The marketplace's integration: a member of the "Marketplace integrations" group."""
    user = factories.UserFactory(username=username)
    user.groups.add(Group.objects.get(name=MARKETPLACE_INTEGRATIONS))
    return type(user).objects.get(pk=user.pk)


def png_bytes(colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buffer, "PNG")
    return buffer.getvalue()


def png(name: str = "shade.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def token_client(user) -> APIClient:
    """A client as the marketplace or an app calls: `Authorization: Token <key>`."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Evidence goes to a folder of its own per test, never into the project's media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def service(db):
    return service_account()


@pytest.fixture
def people(parties, service):
    return {"anonymous": None, **parties, "service": service}


@pytest.fixture
def api_as(people):
    """A token client for one of `ROLES` (`anonymous` sends no credentials)."""

    def make(role: str) -> APIClient:
        return token_client(people[role])

    return make


@dataclass
class World:
    case: Case  # open, between `buyer` and `seller`, with one photo from the buyer
    order: Order  # the case's order
    spare_order: Order  # another of the buyer's orders from the same seller, shipped, with no case
    evidence: Evidence
    others_order: Order  # between `other_buyer` and `other_seller`


@pytest.fixture
def world(open_case, order, buyer, seller, other_buyer, other_seller):
    evidence = evidence_add(case=open_case, uploader=buyer, files=[png()], description="The cracked shade")[0]
    return World(
        case=Case.objects.get(pk=open_case.pk),
        order=order,
        spare_order=factories.order(buyer=buyer, seller=seller, external_id="ORD-SPARE", delivered_days_ago=None),
        evidence=evidence,
        others_order=factories.order(buyer=other_buyer, seller=other_seller, external_id="ORD-OTHERS"),
    )
