from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from policies.models import Policy
from policies.services import policy_save


class PolicyAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        max_length=500,
        help_text="Kept in the policy's history beside your name.",
    )

    class Meta:
        model = Policy
        fields = "__all__"


@admin.register(Policy)
class PolicyAdmin(SimpleHistoryAdmin):
    form = PolicyAdminForm
    list_display = ["title", "kind", "version", "is_published", "effective_from", "updated_at"]
    list_filter = ["kind", "is_published"]
    search_fields = ["title", "slug", "body"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["version", "updated_at"]
    history_list_display = ["version", "seller_answer_hours", "buyer_wait_hours", "appeal_window_days"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "kind", "body", "is_published", "effective_from", "version"]}),
        (
            "Dispute rules",
            {
                "description": "Used by cases filed from now on; existing cases keep the rules they were filed under.",
                "fields": [
                    "filing_window_days",
                    "seller_answer_hours",
                    "buyer_wait_hours",
                    "agent_decision_hours",
                    "return_shipping_days",
                    "appeal_window_days",
                    "offer_response_hours",
                    "buyer_inactivity_days",
                    "return_confirm_days",
                    "senior_escalation_hours",
                    "reminder_hours",
                    "count_business_days",
                    "holidays",
                ],
            },
        ),
        (
            "Automatic resolution",
            {
                "description": "Common cases the desk settles by rule; every such decision names its rule "
                "and can be appealed to a person.",
                "fields": ["auto_resolve_limit", "auto_rule_not_received", "auto_rule_seller_silent"],
            },
        ),
        (
            "Feedback and seller performance",
            {
                "fields": [
                    "feedback_edit_days",
                    "performance_window_days",
                    "risk_dispute_rate_percent",
                    "risk_on_time_answer_percent",
                    "risk_decided_against_percent",
                ]
            },
        ),
        ("Why", {"fields": ["change_reason"]}),
    ]

    def save_model(self, request, obj, form, change):
        policy_save(policy=obj, actor=request.user, reason=form.cleaned_data["change_reason"])

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple-history's select_related() with no names (no foreign keys here) drops the
        # history_user join: without this, the history page reads each row's user on its own.
        queryset = super().get_history_queryset(request, history_manager, pk_name, object_id)
        return queryset.select_related("history_user")
