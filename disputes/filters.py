"""Filters for the lists agents read (django-filter)."""

import django_filters
from django import forms
from django.utils import timezone

from disputes.models import Case, Reason

QUEUE_STATES = [Case.State.ESCALATED, Case.State.IN_MEDIATION, Case.State.APPEALED]


class QueueFilter(django_filters.FilterSet):
    """The mediation queue's filters; "mine" means assigned to `user`. Unchecked boxes filter nothing."""

    state = django_filters.ChoiceFilter(
        label="State", choices=[(state.value, state.label) for state in QUEUE_STATES], empty_label="Any state"
    )
    reason = django_filters.ChoiceFilter(label="Reason", choices=Reason.choices, empty_label="Any reason")
    amount_min = django_filters.NumberFilter(
        label="Claimed from", field_name="amount_claimed", lookup_expr="gte", min_value=0
    )
    amount_max = django_filters.NumberFilter(label="Claimed up to", field_name="amount_claimed", lookup_expr="lte")
    seller = django_filters.CharFilter(label="Seller (username)", field_name="seller__username", lookup_expr="iexact")
    overdue = django_filters.BooleanFilter(label="Overdue", method="filter_overdue", widget=forms.CheckboxInput)
    mine = django_filters.BooleanFilter(label="Mine", method="filter_mine", widget=forms.CheckboxInput)
    unassigned = django_filters.BooleanFilter(
        label="Unassigned", method="filter_unassigned", widget=forms.CheckboxInput
    )

    class Meta:
        model = Case
        fields = ()

    def __init__(self, data=None, queryset=None, *, user, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.user = user

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(agent_decision_due_at__lt=timezone.now()) if value else queryset

    def filter_mine(self, queryset, name, value):
        return queryset.filter(agent=self.user) if value else queryset

    def filter_unassigned(self, queryset, name, value):
        return queryset.filter(agent__isnull=True) if value else queryset
