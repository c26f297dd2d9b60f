"""Output shapes the API's operations share, and the error bodies for the schema.

Each operation's own input (and any output only it has) is nested in its view class; what
several return (an order, a message ...) is here, a case in `serializers_cases`. Nothing here
decides anything: what a user may do next comes from the state machine.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from disputes.models import Case, Evidence, Message, Order
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
        return absolute_url(self, reverse("api:order-detail", kwargs={"external_id": order.external_id}))


class OrderBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["external_id", "item_title", "amount", "currency", "status"]
        read_only_fields = fields


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
        return absolute_url(self, reverse("api:case-evidence-file", kwargs={"reference": reference, "pk": evidence.pk}))


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


def absolute_url(serializer, path: str) -> str:
    """The path as a full address when the serializer has a request to take the host from."""
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path
