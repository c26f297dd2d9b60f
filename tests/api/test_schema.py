"""The OpenAPI schema: valid, documented in the app without a CDN, and true to the running app.

The schemathesis run generates requests from the schema for every operation, sends them to the
app (its WSGI handler, in this process and this test's transaction) as three roles, and fails
on any server error or any answer the schema does not describe (status, content type, body).
It is bounded: a few examples per operation, no shrinking, a deadline per example.
"""

import io
import json
import re
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def test_schema_served_at_api_schema_is_valid_openapi_3(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/cases/", "/api/v1/cases/{reference}/transitions/", "/api/v1/orders/{external_id}/"} <= set(
        schema["paths"]
    )


def test_schema_generates_without_a_warning(tmp_path):
    """`manage.py spectacular --validate --fail-on-warn`: no guessed types, no name clashes."""
    target = tmp_path / "schema.json"

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(target),
        stdout=io.StringIO(),
    )

    validate(json.loads(target.read_text()))


def test_docs_page_loads_its_assets_from_the_app(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page loads no script or style?"
    scripts = [url for url in assets if url.startswith("/api/docs/?")]
    for url in set(assets) - set(scripts):
        assert url.startswith("/static/"), f"{url} is not served by the app"
        assert finders.find(url.removeprefix("/static/")), f"{url} is not among the app's static files"
    assert "cdn" not in html.lower()
    assert "<script>" not in html and "<style>" not in html  # nothing inline: see the Content-Security-Policy
    # The start-up script comes from the page's own address, and points Swagger UI at the schema.
    assert len(scripts) == 1
    script = client.get(scripts[0].replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


# Loaded from the app itself, as a client would: GET /api/schema/ through the WSGI handler.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

# A few examples per operation, no shrinking (a failure is reported as found), a deadline each;
# the same examples every run, so CI is repeatable (turn derandomize off locally to explore).
bounded = settings(
    max_examples=5,
    derandomize=True,
    deadline=timedelta(seconds=5),
    phases=[Phase.explicit, Phase.generate],
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """The WSGI handler closes the database connection after each request, which would end this
    test's transaction; Django's own test client stops that the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def example_order(world, buyer, seller):
    """The order the schema's "file a case" example names, so that example gets as far as a case."""
    return factories.order(buyer=buyer, seller=seller, external_id="MP-1002", delivered_days_ago=None)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def call_as(user, case, world):
    # Point most requests at records that exist, so they get past the 404 and into the services.
    if "reference" in case.path_parameters:
        case.path_parameters["reference"] = world.case.reference
    if "id" in case.path_parameters:
        case.path_parameters["id"] = world.evidence.pk
    if "external_id" in case.path_parameters and case.method != "PUT":
        case.path_parameters["external_id"] = world.order.external_id
    token = token_client(user)._credentials["HTTP_AUTHORIZATION"]
    case.call_and_validate(headers={"Authorization": token}, checks=CHECKS)


@schema.parametrize()
@bounded
def test_the_app_answers_the_buyer_as_its_schema_says(case, world, example_order, buyer):
    call_as(buyer, case, world)


@schema.parametrize()
@bounded
def test_the_app_answers_the_seller_as_its_schema_says(case, world, example_order, seller):
    call_as(seller, case, world)


@schema.parametrize()
@bounded
def test_the_app_answers_the_service_account_as_its_schema_says(case, world, example_order, service):
    call_as(service, case, world)


@pytest.fixture
def mediated_world(world, agent):
    """The world's case in mediation with `agent` assigned, so an agent's requests reach the
    mediation services (proposals, decisions) rather than stopping at a wrong state."""
    from tests.disputes.case_states import bring_to

    world.case = bring_to("in_mediation", world.case, agent=agent)
    return world


@schema.include(path_regex=r"^/api/v1/cases/").parametrize()
@bounded
def test_the_app_answers_the_assigned_agent_as_its_schema_says(case, mediated_world, example_order, agent):
    call_as(agent, case, mediated_world)


# Only wrong input (the schema's negative mode: wrong types, missing and extra fields, out-of-range
# values) as the case's buyer: always an answer the schema describes, never a server error.
negative = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
negative.config.generation.update(modes=[GenerationMode.NEGATIVE])


@negative.parametrize()
@settings(bounded, max_examples=3)
def test_the_app_refuses_wrong_input_from_the_buyer_as_its_schema_says(case, world, example_order, buyer):
    call_as(buyer, case, world)
