from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django_fsm.admin import FSMAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from disputes.exceptions import DisputeError, InvalidInput
from disputes.models import (
    AgentStatus,
    CannedReply,
    Case,
    Decision,
    EvidenceRequest,
    Offer,
    Order,
    Outcome,
    RefundInstruction,
    WebhookDelivery,
    WebhookEndpoint,
)
from disputes.services import case_transition


class ReadOnlyAdminMixin:
    """Records the desk writes through its services; admin shows them and their history."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text="For a partial refund; a full refund is the order amount.",
    )
    rationale = forms.CharField(widget=forms.Textarea, help_text="Cite the policy the decision rests on.")


@admin.register(Case)
class CaseAdmin(FSMAdminMixin, SimpleHistoryAdmin):
    """Cases are read-only here; the state moves only by the transition buttons, via the services."""

    fsm_fields = ["state"]
    fsm_forms = {"decide": DecisionForm, "decide_appeal": DecisionForm}
    list_display = [
        "reference",
        "state",
        "reason",
        "amount_claimed",
        "currency",
        "buyer",
        "seller",
        "agent",
        "filed_at",
    ]
    list_filter = ["state", "reason", "outcome"]
    list_select_related = ["buyer", "seller", "agent"]
    search_fields = ["order__external_id", "buyer__username", "seller__username", "description"]
    date_hierarchy = "filed_at"
    history_list_display = ["state", "agent", "outcome", "refund_amount"]
    fieldsets = [
        (None, {"fields": ["reference", "state", "order", "buyer", "seller", "agent"]}),
        ("Claim", {"fields": ["reason", "requested_outcome", "amount_claimed", "currency", "description"]}),
        (
            "Outcome",
            {
                "fields": [
                    "outcome",
                    "refund_amount",
                    "appealed_by",
                    "offers_made",
                    "decisions_made",
                    "refunds_instructed",
                ]
            },
        ),
        (
            "Deadlines",
            {
                "fields": [
                    "policy_version",
                    "seller_answer_due_at",
                    "buyer_may_escalate_at",
                    "agent_decision_due_at",
                    "return_due_at",
                    "appeal_until",
                ]
            },
        ),
        ("Return", {"fields": ["return_carrier", "return_tracking_number", "return_shipped_at"]}),
        ("Timeline", {"fields": ["filed_at", "escalated_at", "resolved_at", "closed_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Every field is read-only: saving the form must not write a history row."""

    # Related records are shown as text, not inline formsets: the change form carries only the
    # transition buttons, so a transition POST needs nothing but its name.

    @admin.display(description="offers")
    def offers_made(self, obj):
        return _lines(
            f"{offer.get_made_by_role_display()} {offer.made_by}: {offer.get_kind_display()}"
            f"{f' {offer.amount}' if offer.amount else ''} ({offer.get_status_display().lower()})"
            for offer in obj.offers.select_related("made_by")
        )

    @admin.display(description="decisions")
    def decisions_made(self, obj):
        return _lines(
            f"{d.get_stage_display()} by {d.decided_by} on {d.decided_at:%Y-%m-%d %H:%M}: "
            f"{d.get_outcome_display()}{f' {d.amount}' if d.amount else ''}. {d.rationale}"
            for d in obj.decisions.select_related("decided_by")
        )

    @admin.display(description="refund instructions")
    def refunds_instructed(self, obj):
        return _lines(
            f"{r.amount} {r.currency} ({r.get_status_display().lower()}), key {r.idempotency_key}"
            for r in obj.refunds.all()
        )

    @admin.display(description="reference", ordering="pk")
    def reference(self, obj):
        return obj.reference

    def get_search_results(self, request, queryset, search_term):
        pk = Case.pk_from_reference(search_term)
        if pk is not None:
            return queryset.filter(pk=pk), False
        return super().get_search_results(request, queryset, search_term)

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None):
        try:
            case_transition(case=obj, actor=request.user, name=transition_name, **(kwargs or {}))
        except InvalidInput as exc:
            details = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.errors.items())
            self.message_user(request, f"{exc.message} {details}".strip(), level=messages.ERROR)
            return False
        except (DisputeError, PermissionDenied) as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return False
        self.message_user(request, f"{self.get_fsm_label(self._transition(obj, transition_name))}: done.")
        return True

    def _transition(self, obj, transition_name):
        return self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name)


def _lines(lines):
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "–"


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["external_id", "item_title", "amount", "currency", "status", "buyer", "seller", "placed_at"]
    list_filter = ["status", "currency"]
    list_select_related = ["buyer", "seller"]
    search_fields = ["external_id", "item_title", "tracking_number", "buyer__username", "seller__username"]


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "made_by_role", "kind", "amount", "status", "created_at"]
    list_filter = ["made_by_role", "kind", "status"]
    list_select_related = ["case"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "stage", "outcome", "amount", "decided_by", "decided_at"]
    list_filter = ["stage", "outcome"]
    list_select_related = ["case", "decided_by"]


@admin.register(RefundInstruction)
class RefundInstructionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["idempotency_key", "amount", "currency", "status", "created_at"]
    list_filter = ["status"]


@admin.register(CannedReply)
class CannedReplyAdmin(SimpleHistoryAdmin):
    """Replies agents start from, edited here with their history."""

    list_display = ["title", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["title", "body"]
    fields = ["title", "body", "is_active"]

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple-history's select_related() with no names (no foreign keys here) drops the
        # history_user join: without this, the history page reads each row's user on its own.
        queryset = super().get_history_queryset(request, history_manager, pk_name, object_id)
        return queryset.select_related("history_user")

    def get_form(self, request, obj=None, **kwargs):
        placeholders = ", ".join("{%s}" % name for name in CannedReply.PLACEHOLDERS)
        kwargs.setdefault("help_texts", {})["body"] = f"Placeholders filled in for each case: {placeholders}."
        return super().get_form(request, obj, **kwargs)


@admin.register(EvidenceRequest)
class EvidenceRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by agents from the console; shown here for the record."""

    list_display = ["__str__", "requested_from", "requested_by", "due_at", "fulfilled_at"]
    list_select_related = ["case", "requested_from", "requested_by"]
    search_fields = ["requested_from__username", "requested_by__username", "note"]


@admin.register(AgentStatus)
class AgentStatusAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Agents set themselves available or away in the console."""

    list_display = ["agent", "is_available", "last_assigned_at"]
    list_filter = ["is_available"]
    list_select_related = ["agent"]


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="Where the desk POSTs each event.")
    events = forms.MultipleChoiceField(
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Each request is a POST of JSON, signed: X-Desk-Signature: sha256=<HMAC-SHA256 of the body>.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_active", "secret"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Where the marketplace hears about cases; the delivery log shows what was sent."""

    form = WebhookEndpointForm
    list_display = ["url", "description", "event_list", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]

    @admin.display(description="events")
    def event_list(self, obj):
        return ", ".join(obj.events or []) or "–"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What was sent where, and how it went: a log, written by the desk, never edited."""

    list_display = ["event", "case", "endpoint", "status", "attempts", "response_code", "next_attempt_at", "created_at"]
    list_filter = ["status", "event", "endpoint"]
    list_select_related = ["endpoint", "case"]
    search_fields = ["endpoint__url", "last_error"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "endpoint",
        "event",
        "case",
        "payload",
        "status",
        "attempts",
        "response_code",
        "last_error",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    ]
