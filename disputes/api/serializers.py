"""Output shapes the API's operations share, and the error bodies for the schema.

Each operation's own input (and any output only it has) is nested in its view class; what
several return (an order, a case, a message ...) is here. Nothing here decides anything: what a
user may do next comes from the state machine.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from disputes.api.filters import DEADLINE_COLUMNS, is_overdue, running_deadline
from disputes.models import (
    MONEY,
    Case,
    Currency,
    Decision,
    Evidence,
    Message,
    Offer,
    Order,
    Outcome,
    Reason,
    RefundInstruction,
    Remedy,
)
from disputes.permissions import is_system_user


def side_of(case: Case, user) -> str:
    """Who someone is on this case: buyer, seller, agent, or system (automatic steps)."""
    if user is None or is_system_user(user):
        return "system"
    if user.pk == case.buyer_id:
        return "buyer"
    if user.pk == case.seller_id:
        return "seller"
    return "agent"


def display_name(case: Case, user) -> str:
    """The name a person sees on the case page: parties by name, our team by first name."""
    side = side_of(case, user)
    if side == "system":
        return "Support desk (automatic)"
    name = user.get_full_name() or user.username
    return name if side in ("buyer", "seller") else f"Support team · {user.first_name or name}"


SIDES = [("buyer", "Buyer"), ("seller", "Seller"), ("agent", "Agent"), ("system", "System")]


class SideField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=SIDES, **kwargs)


# Orders


class OrderSerializer(serializers.ModelSerializer):
    buyer = serializers.CharField(source="buyer.username", help_text="The buyer's username.")
    seller = serializers.CharField(source="seller.username", help_text="The seller's username.")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "external_id",
            "url",
            "buyer",
            "seller",
            "item_title",
            "quantity",
            "amount",
            "currency",
            "status",
            "carrier",
            "tracking_number",
            "placed_at",
            "shipped_at",
            "delivered_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, order) -> str:
        return _absolute(self, reverse("api:order-detail", kwargs={"external_id": order.external_id}))


class OrderBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["external_id", "item_title", "amount", "currency", "status"]
        read_only_fields = fields


# Cases


class DeadlineSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Which deadline, e.g. seller_answer_due_at.")
    due_at = serializers.DateTimeField()


class CaseSerializer(serializers.ModelSerializer):
    """A case as a list shows it."""

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

    # The columns to_representation reads, so that a list loads no others.
    COLUMNS = [
        *("state", "reason", "requested_outcome", "amount_claimed", "currency", "outcome", "refund_amount"),
        *("filed_at", "updated_at", "resolved_at", "closed_at", *DEADLINE_COLUMNS),
        *("order__external_id", "order__item_title", "order__amount", "order__currency", "order__status"),
        *("buyer__username", "seller__username"),
    ]

    def to_representation(self, case):
        """What the declared fields give, built directly: a list page holds up to 200 cases, and
        DRF's field-by-field walk was most of its time. Fields a subclass adds go the usual way.
        tests/api/test_case_serializer.py holds the two to the same answer."""
        order = case.order
        data = {
            "reference": case.reference,
            "url": self.get_url(case),
            "state": str(case.state),
            "state_label": case.get_state_display(),
            "reason": str(case.reason),
            "requested_outcome": str(case.requested_outcome),
            "amount_claimed": _or_none(_MONEY, case.amount_claimed),
            "currency": str(case.currency),
            "order": {
                "external_id": order.external_id,
                "item_title": order.item_title,
                "amount": _or_none(_MONEY, order.amount),
                "currency": order.currency,
                "status": order.status,
            },
            "buyer": case.buyer.username,
            "seller": case.seller.username,
            "outcome": self.get_outcome(case),
            "refund_amount": _or_none(_MONEY, case.refund_amount),
            "deadline": self.get_deadline(case),
            "overdue": self.get_overdue(case),
            "filed_at": _or_none(_WHEN, case.filed_at),
            "updated_at": _or_none(_WHEN, case.updated_at),
            "resolved_at": _or_none(_WHEN, case.resolved_at),
            "closed_at": _or_none(_WHEN, case.closed_at),
        }
        if len(self.Meta.fields) > len(data):  # a subclass's own fields, after these
            for field in self._readable_fields:
                if field.field_name not in data:
                    attribute = field.get_attribute(case)
                    data[field.field_name] = None if attribute is None else field.to_representation(attribute)
        return data

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, case) -> str:
        return _absolute(self, reverse("api:case-detail", kwargs={"reference": case.reference}))

    @extend_schema_field(serializers.ChoiceField(choices=Outcome.choices, allow_null=True))
    def get_outcome(self, case):
        return case.outcome or None

    @extend_schema_field(DeadlineSerializer(allow_null=True))
    def get_deadline(self, case):
        deadline = running_deadline(case)
        return {"name": deadline[0], "due_at": _WHEN.to_representation(deadline[1])} if deadline else None

    def get_overdue(self, case) -> bool:
        return is_overdue(case)


# Format as every DateTimeField, and every DecimalField of a money column, of the API does.
_WHEN = serializers.DateTimeField()
_MONEY = serializers.DecimalField(**MONEY)


def _or_none(field: serializers.Field, value):
    return None if value is None else field.to_representation(value)


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
        fields = CaseSerializer.Meta.fields + [
            "description",
            "deadlines",
            "return_shipment",
            "offers",
            "decisions",
            "refunds",
            "appealed_by",
            "actions",
        ]
        read_only_fields = fields

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


# What happens on a case


class MessageSerializer(serializers.ModelSerializer):
    side = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()
    internal = serializers.BooleanField(source="is_internal", help_text="An agents-only note.")

    class Meta:
        model = Message
        fields = ["id", "side", "author", "body", "internal", "created_at"]
        read_only_fields = fields

    @extend_schema_field(SideField())
    def get_side(self, message):
        return side_of(self.context["case"], message.author)

    def get_author(self, message) -> str:
        return display_name(self.context["case"], message.author)


class EvidenceSerializer(serializers.ModelSerializer):
    side = serializers.SerializerMethodField()
    content_type = serializers.ChoiceField(choices=Evidence.Kind.choices)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "side",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "description",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(SideField())
    def get_side(self, evidence):
        return side_of(self.context["case"], evidence.uploaded_by)

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, evidence) -> str:
        reference = self.context["case"].reference
        return _absolute(self, reverse("api:case-evidence-file", kwargs={"reference": reference, "pk": evidence.pk}))


class HistoryEntrySerializer(serializers.Serializer):
    """One saved change of the case: who, when, why, and the state after it."""

    at = serializers.DateTimeField(source="history_date")
    side = serializers.SerializerMethodField()
    by = serializers.SerializerMethodField()
    reason = serializers.CharField(source="history_change_reason", allow_null=True)
    state = serializers.ChoiceField(choices=Case.State.choices)
    state_label = serializers.SerializerMethodField()

    @extend_schema_field(SideField())
    def get_side(self, row):
        return side_of(self.context["case"], row.history_user)

    def get_by(self, row) -> str:
        return display_name(self.context["case"], row.history_user)

    def get_state_label(self, row) -> str:
        return Case.State(row.state).label


# Errors, for the schema (disputes.api.exceptions writes them)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Invalid input: field → messages (non_field_errors: about the whole request).",
    )


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="transition_refused, or case_changed when someone acted first.")
    state = serializers.ChoiceField(choices=Case.State.choices, required=False)
    action = serializers.CharField(required=False)
    allowed_actions = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="What this user may do on the case now."
    )


def _absolute(serializer, path: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path
