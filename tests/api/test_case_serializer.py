"""A case is built directly for speed, in a list from `.values()` rows; it must give exactly what
the serializer's declared fields give, for cases in every state, in the reader's time zone."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers
from zeal import zeal_ignore

from disputes.api.serializers_cases import (
    CASE_ROW_COLUMNS,
    CaseDetailSerializer,
    CaseSerializer,
    case_row_values,
    case_rows,
)
from disputes.models import Case
from tests.api.conftest import service_account, token_client


@pytest.fixture
def every_state(db, settings):
    settings.DEBUG = True  # the demo data refuses to load otherwise
    call_command("seed_demo", stdout=StringIO())
    cases = list(Case.objects.select_related("order", "buyer", "seller", "agent").order_by("pk"))
    assert {case.state for case in cases} >= set(Case.State.values) - {Case.State.CLOSED}
    return cases


@pytest.fixture
def request_(db):
    request = RequestFactory().get("/api/v1/cases/", HTTP_HOST="testserver")
    request.user = service_account("integration-under-test")
    return request


def declared(serializer_class, case, request) -> dict:
    """The answer DRF's own field-by-field walk gives."""
    return serializers.ModelSerializer.to_representation(serializer_class(context={"request": request}), case)


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Kolkata"])
def test_a_listed_case_is_what_its_declared_fields_give(every_state, request_, zone):
    rows = (
        Case.objects.filter(pk__in=[case.pk for case in every_state])
        .order_by("pk")
        .values(*CASE_ROW_COLUMNS, **case_row_values())
    )
    with timezone.override(zone):
        listed = case_rows(rows, request=request_)
        for case, built in zip(every_state, listed, strict=True):
            assert built == declared(CaseSerializer, case, request_), case.reference
            assert list(built) == CaseSerializer.Meta.fields
            assert CaseSerializer(case, context={"request": request_}).data == built


def test_the_detail_adds_its_own_fields_after_the_list_ones(every_state, request_):
    with zeal_ignore():  # one case at a time, as the detail endpoint reads it: no N+1
        for case in every_state:
            built = CaseDetailSerializer(case, context={"request": request_}).data
            assert built == declared(CaseDetailSerializer, case, request_), case.reference
            assert list(built) == CaseDetailSerializer.Meta.fields


def test_a_page_of_cases_reads_the_same_over_http(every_state, request_):
    rows = token_client(request_.user).get("/api/v1/cases/?page_size=200").json()["results"]
    request = RequestFactory().get("/api/v1/cases/", HTTP_HOST="testserver")
    by_reference = {case.reference: case for case in every_state}
    assert {row["reference"] for row in rows} == set(by_reference)
    for row in rows:
        assert row == declared(CaseSerializer, by_reference[row["reference"]], request)


@pytest.mark.django_db
@pytest.mark.parametrize("state", Case.State.values)
def test_the_database_finds_the_running_deadline_as_the_rule_does(open_case, state):
    from itertools import product

    from disputes.api.filters import (
        DEADLINE_COLUMNS,
        RUNNING_DEADLINE_VALUES,
        case_running_deadline,
        running_deadline_sql,
    )

    moment = timezone.now()
    choices = [[None, moment] if Case._meta.get_field(column).null else [moment] for column in DEADLINE_COLUMNS]
    for filled in product(*choices):
        columns = dict(zip(DEADLINE_COLUMNS, filled, strict=True))
        Case.objects.filter(pk=open_case.pk).update(state=state, **columns)
        rule = case_running_deadline(Case.objects.get(pk=open_case.pk))
        for values in (RUNNING_DEADLINE_VALUES, running_deadline_sql()):  # as written, and compiled once
            found = Case.objects.filter(pk=open_case.pk).values(**values).get()

            running = (found["deadline_name"], found["deadline_due_at"]) if found["deadline_due_at"] else None
            assert running == rule, columns
