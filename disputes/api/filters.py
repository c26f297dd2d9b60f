"""Filters and pages for the API's lists (django-filter FilterSets, cursor pagination)."""

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case as Choose
from django.db.models import CharField, DateTimeField, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework.pagination import CursorPagination

from disputes.models import Case, Order, Reason

S = Case.State

# The deadline that runs in each state: (states, the deadline, fields that must be empty (True)
# or set (False) for it to run). A case past the deadline of its current step is overdue.
RUNNING_DEADLINES = [
    ({S.OPEN}, "seller_answer_due_at", {"seller_answered_at": True}),
    ({S.AWAITING_BUYER}, "buyer_answer_due_at", {}),
    ({S.ESCALATED, S.IN_MEDIATION, S.APPEALED}, "agent_decision_due_at", {}),
    ({S.AWAITING_RETURN}, "return_due_at", {"return_shipped_at": True}),
    ({S.AWAITING_RETURN}, "return_confirm_due_at", {"return_shipped_at": False}),
]
DEADLINE_COLUMNS = sorted(
    {name for _, name, _ in RUNNING_DEADLINES} | {f for *_, empty in RUNNING_DEADLINES for f in empty}
)


def running_deadline(columns: Mapping[str, Any]) -> tuple[str, datetime] | None:
    """The deadline of the case's current step, as (its name, when), if one is running.

    `columns`: the case's state and DEADLINE_COLUMNS by name (a `.values()` row will do)."""
    state = columns["state"]
    for states, name, empty in RUNNING_DEADLINES:
        if state in states and all((columns[f] is None) == is_empty for f, is_empty in empty.items()):
            due_at = columns[name]
            return (name, due_at) if due_at else None
    return None


def case_running_deadline(case: Case) -> tuple[str, datetime] | None:
    """running_deadline of a loaded case."""
    return running_deadline({column: getattr(case, column) for column in ("state", *DEADLINE_COLUMNS)})


def _runs(states, empty) -> Q:
    return Q(state__in=states, **{f"{field}__isnull": is_empty for field, is_empty in empty.items()})


# running_deadline worked out by the database, for lists: a row then loads two columns, not the
# seven its rule reads (parsing dates was a good part of a page's time).
RUNNING_DEADLINE_VALUES = {
    "deadline_name": Choose(
        *[When(_runs(states, empty), then=Value(name)) for states, name, empty in RUNNING_DEADLINES],
        output_field=CharField(),
    ),
    "deadline_due_at": Choose(
        *[When(_runs(states, empty), then=F(name)) for states, name, empty in RUNNING_DEADLINES],
        output_field=DateTimeField(),
    ),
}


def running_deadline_sql() -> dict[str, RawSQL]:
    """RUNNING_DEADLINE_VALUES compiled once per process, for a list read from the case table itself
    (not as a subquery, whose table would have another alias). Resolving and compiling their
    fourteen conditions on every request was a fifth of the cases API list's time."""
    return _compiled_running_deadline(connection.vendor)


@lru_cache(maxsize=4)
def _compiled_running_deadline(vendor: str) -> dict[str, RawSQL]:
    query = Case.objects.annotate(**RUNNING_DEADLINE_VALUES).query
    compiler = query.get_compiler(connection=connection)
    compiled = {}
    for name, expression in RUNNING_DEADLINE_VALUES.items():
        sql, params = compiler.compile(query.annotations[name])
        compiled[name] = RawSQL(sql, tuple(params), output_field=expression.output_field)
    return compiled


def overdue_q(now: datetime) -> Q:
    condition = Q(pk__in=[])
    for states, name, empty in RUNNING_DEADLINES:
        condition |= _runs(states, empty) & Q(**{f"{name}__lt": now})
    return condition


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time in any zone, as UTC: the database takes no offset past ±15:59."""

    def clean(self, value):
        value = super().clean(value)
        try:
            return value.astimezone(UTC) if value is not None else None
        except OverflowError:
            raise ValidationError("This time is out of range.", code="overflow") from None


class UpdatedSinceFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class CaseFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=Case.State.choices, help_text="One or more states.")
    reason = filters.ChoiceFilter(choices=Reason.choices)
    buyer = filters.CharFilter(field_name="buyer__username", lookup_expr="iexact", help_text="The buyer's username.")
    seller = filters.CharFilter(field_name="seller__username", lookup_expr="iexact", help_text="The seller's username.")
    order = filters.CharFilter(field_name="order__external_id", help_text="The order's external id.")
    updated_since = UpdatedSinceFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Changed at or after this time (ISO 8601)."
    )
    overdue = filters.BooleanFilter(
        method="filter_overdue", help_text="true: past the deadline of the current step; false: not past it."
    )

    class Meta:
        model = Case
        fields = ()

    def filter_overdue(self, queryset, name, value):
        condition = overdue_q(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)


class OrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Order.Status.choices)
    buyer = filters.CharFilter(field_name="buyer__username", lookup_expr="iexact", help_text="The buyer's username.")
    seller = filters.CharFilter(field_name="seller__username", lookup_expr="iexact", help_text="The seller's username.")
    updated_since = UpdatedSinceFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Changed at or after this time (ISO 8601)."
    )

    class Meta:
        model = Order
        fields = ()


class NewestFirstPagination(CursorPagination):
    """Cursor pages, newest first: stable while rows are added, and no COUNT over the table."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
