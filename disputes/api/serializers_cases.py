"""A case as the API shows it: a row of the list, and the whole case with what may happen next.

A list page holds up to 200 cases; loading each as model instances and walking DRF's fields was
most of its time. So a listed case is built directly from its columns (`case_rows`, from
`.values(*CASE_ROW_COLUMNS, **case_row_values())`), and CaseSerializer's declared fields describe the same answer
for the schema. tests/api/test_case_serializer.py holds the two to the same answer.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from operator import attrgetter

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from disputes.api.filters import case_running_deadline, running_deadline_sql
from disputes.api.serializers import OrderBriefSerializer, SideField, absolute_url, side_of
from disputes.models import Case, Currency, Decision, Offer, Outcome, Reason, RefundInstruction, Remedy


class DeadlineSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Which deadline, e.g. seller_answer_due_at.")
    due_at = serializers.DateTimeField()


class CaseSerializer(serializers.ModelSerializer):
    """A case as a list shows it (built by `case_row`; the fields say what it gives)."""

    url = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=Case.State.choices)
    state_label = serializers.CharField(source="get_state_display")
    reason = serializers.ChoiceField(choices=Reason.choices)
    requested_outcome = serializers.ChoiceField(choices=Remedy.choices)
    currency = serializers.ChoiceField(choices=Currency.choices)
    outcome = serializers.SerializerMethodField()
    order = OrderBriefSerializer()
    buyer = serializers.CharField(source="buyer.username")
    seller = serializers.CharField(source="seller.username")
    deadline = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "reference",
            "url",
            "state",
            "state_label",
            "reason",
            "requested_outcome",
            "amount_claimed",
            "currency",
            "order",
            "buyer",
            "seller",
            "outcome",
            "refund_amount",
            "deadline",
            "overdue",
            "filed_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields

    def to_representation(self, case):
        return case_row(case_columns(case), self._format)

    @cached_property
    def _format(self):
        return RowFormat(self.context.get("request"))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, case) -> str:
        return absolute_url(self, reverse("api:case-detail", kwargs={"reference": case.reference}))

    @extend_schema_field(serializers.ChoiceField(choices=Outcome.choices, allow_null=True))
    def get_outcome(self, case):
        return case.outcome or None

    @extend_schema_field(DeadlineSerializer(allow_null=True))
    def get_deadline(self, case):
        deadline = case_running_deadline(case)
        return (
            {"name": deadline[0], "due_at": serializers.DateTimeField().to_representation(deadline[1])}
            if deadline
            else None
        )

    def get_overdue(self, case) -> bool:
        deadline = case_running_deadline(case)
        return deadline is not None and deadline[1] < timezone.now()


# The columns a listed case is built from, by `.values()` name: a list loads these and no others.
CASE_ROW_COLUMNS = [
    *("id", "state", "reason", "requested_outcome", "amount_claimed", "currency", "outcome", "refund_amount"),
    *("filed_at", "updated_at", "resolved_at", "closed_at"),
    *("order__external_id", "order__item_title", "order__amount", "order__currency", "order__status"),
    *("buyer__username", "seller__username"),
]
_READ_COLUMN = {column: attrgetter(column.replace("__", ".")) for column in CASE_ROW_COLUMNS}
_STATE_LABELS = dict(Case.State.choices)
_REFERENCE_MARK = "MS-0"


def case_row_values() -> dict:
    """What a row reads beside its columns: the running deadline's name and time."""
    return running_deadline_sql()


def case_columns(case: Case) -> dict:
    """A loaded case's CASE_ROW_COLUMNS and case_row_values(), as `.values()` would give them."""
    name, due_at = case_running_deadline(case) or (None, None)
    return {column: read(case) for column, read in _READ_COLUMN.items()} | {
        "deadline_name": name,
        "deadline_due_at": due_at,
    }


class RowFormat:
    """What every row of one answer shares: the reader's time zone, the time, where cases live."""

    def __init__(self, request):
        self.zone = timezone.get_current_timezone()
        self.now = timezone.now()
        path = reverse("api:case-detail", kwargs={"reference": _REFERENCE_MARK})
        url = request.build_absolute_uri(path) if request is not None else path
        self.url_head, self.url_tail = url.rsplit(_REFERENCE_MARK, 1)

    def when(self, moment: datetime | None) -> str | None:
        """As the API's DateTimeFields give it: ISO 8601 in the reader's zone, UTC as Z."""
        if moment is None:
            return None
        text = moment.astimezone(self.zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


def _money(amount: Decimal | None) -> str | None:
    """As the API's money DecimalFields give it: two places, as a string."""
    return None if amount is None else f"{amount:.2f}"


def case_rows(rows: Iterable[Mapping], *, request) -> list[dict]:
    """Listed cases, from `.values(*CASE_ROW_COLUMNS, **case_row_values())` rows."""
    row_format = RowFormat(request)
    return [case_row(columns, row_format) for columns in rows]


def case_row(columns: Mapping, row_format: RowFormat) -> dict:
    """One listed case: what CaseSerializer's declared fields give, from its columns."""
    reference = f"{Case.REFERENCE_PREFIX}{columns['id']:06d}"  # as Case.reference
    state = columns["state"]
    due_at = columns["deadline_due_at"]
    when = row_format.when
    return {
        "reference": reference,
        "url": f"{row_format.url_head}{reference}{row_format.url_tail}",
        "state": state,
        "state_label": _STATE_LABELS[state],
        "reason": columns["reason"],
        "requested_outcome": columns["requested_outcome"],
        "amount_claimed": _money(columns["amount_claimed"]),
        "currency": columns["currency"],
        "order": {
            "external_id": columns["order__external_id"],
            "item_title": columns["order__item_title"],
            "amount": _money(columns["order__amount"]),
            "currency": columns["order__currency"],
            "status": columns["order__status"],
        },
        "buyer": columns["buyer__username"],
        "seller": columns["seller__username"],
        "outcome": columns["outcome"] or None,
        "refund_amount": _money(columns["refund_amount"]),
        "deadline": {"name": columns["deadline_name"], "due_at": when(due_at)} if due_at else None,
        "overdue": due_at is not None and due_at < row_format.now,
        "filed_at": when(columns["filed_at"]),
        "updated_at": when(columns["updated_at"]),
        "resolved_at": when(columns["resolved_at"]),
        "closed_at": when(columns["closed_at"]),
    }


class CaseDeadlinesSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = [
            "seller_answer_due_at",
            "buyer_may_escalate_at",
            "buyer_answer_due_at",
            "agent_decision_due_at",
            "return_due_at",
            "return_confirm_due_at",
            "appeal_until",
        ]
        read_only_fields = fields


class ReturnShipmentSerializer(serializers.Serializer):
    carrier = serializers.CharField(source="return_carrier")
    tracking_number = serializers.CharField(source="return_tracking_number")
    shipped_at = serializers.DateTimeField(source="return_shipped_at", allow_null=True)


class OfferSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Outcome.choices)
    made_by_role = serializers.ChoiceField(choices=Offer.Role.choices)
    status = serializers.ChoiceField(choices=Offer.Status.choices)
    buyer_answer = serializers.SerializerMethodField(help_text="To an agent's proposal.")
    seller_answer = serializers.SerializerMethodField(help_text="To an agent's proposal.")

    class Meta:
        model = Offer
        fields = [
            "id",
            "made_by_role",
            "kind",
            "amount",
            "note",
            "return_address",
            "status",
            "buyer_answer",
            "seller_answer",
            "created_at",
            "answered_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Offer.Answer.choices, allow_null=True))
    def get_buyer_answer(self, offer):
        return offer.buyer_answer or None

    @extend_schema_field(serializers.ChoiceField(choices=Offer.Answer.choices, allow_null=True))
    def get_seller_answer(self, offer):
        return offer.seller_answer or None


class DecisionSerializer(serializers.ModelSerializer):
    stage = serializers.ChoiceField(choices=Decision.Stage.choices)
    outcome = serializers.ChoiceField(choices=Outcome.choices)

    class Meta:
        model = Decision
        fields = ["stage", "outcome", "amount", "rationale", "rule", "decided_at"]
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=RefundInstruction.Status.choices)

    class Meta:
        model = RefundInstruction
        fields = ["idempotency_key", "amount", "currency", "status", "created_at", "sent_at"]
        read_only_fields = fields


class ActionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text='POST it to the case\'s transitions/ as {"name": ...}.')
    label = serializers.CharField()


# What the detail adds to a listed case, after its fields.
DETAIL_FIELDS = [
    "description",
    "deadlines",
    "return_shipment",
    "offers",
    "decisions",
    "refunds",
    "appealed_by",
    "actions",
]


class CaseDetailSerializer(CaseSerializer):
    """A case with its deadlines, offers, decisions, refunds, and the actions open to this user now."""

    description = serializers.CharField()
    deadlines = CaseDeadlinesSerializer(source="*")
    return_shipment = serializers.SerializerMethodField()
    offers = OfferSerializer(many=True)
    decisions = DecisionSerializer(many=True)
    refunds = RefundSerializer(many=True)
    appealed_by = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = CaseSerializer.Meta.fields + DETAIL_FIELDS
        read_only_fields = fields

    def to_representation(self, case):
        """The listed case, then the detail's own fields the usual DRF way."""
        data = super().to_representation(case)
        for name in DETAIL_FIELDS:
            field = self.fields[name]
            attribute = field.get_attribute(case)
            data[name] = None if attribute is None else field.to_representation(attribute)
        return data

    @extend_schema_field(ReturnShipmentSerializer(allow_null=True))
    def get_return_shipment(self, case):
        return ReturnShipmentSerializer(case).data if case.return_carrier else None

    @extend_schema_field(SideField(allow_null=True))
    def get_appealed_by(self, case):
        return side_of(case, case.appealed_by) if case.appealed_by_id else None

    @extend_schema_field(ActionSerializer(many=True))
    def get_actions(self, case):
        """The transitions this user may fire now, read from the state machine."""
        user = self.context["request"].user
        return [
            {"name": transition.name, "label": transition.custom.get("label", transition.name)}
            for transition in case.get_available_user_state_transitions(user)
        ]
