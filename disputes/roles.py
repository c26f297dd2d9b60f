"""Staff roles are Django groups with permissions; a person's role on a case comes from the case."""

from django.contrib.auth.models import Group, Permission

SUPPORT_AGENTS = "Support agents"
SENIOR_AGENTS = "Senior agents"
POLICY_EDITORS = "Policy editors"
MARKETPLACE_INTEGRATIONS = "Marketplace integrations"  # service accounts of the marketplace (API)

_VIEW_DESK = [
    "disputes.view_case",
    "disputes.view_order",
    "disputes.view_offer",
    "disputes.view_decision",
    "disputes.view_refundinstruction",
    "policies.view_policy",
]

GROUP_PERMISSIONS = {
    SUPPORT_AGENTS: ["disputes.mediate_case", *_VIEW_DESK],
    SENIOR_AGENTS: ["disputes.mediate_case", "disputes.decide_appeal", *_VIEW_DESK],
    POLICY_EDITORS: ["policies.view_policy", "policies.add_policy", "policies.change_policy"],
    MARKETPLACE_INTEGRATIONS: ["disputes.sync_orders", "disputes.view_order", "disputes.view_case"],
}


def ensure_staff_groups(**kwargs) -> None:
    """Create the staff groups with their permissions; safe to run again (post_migrate)."""
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in (perm.split(".") for perm in codenames)
        ]
        group.permissions.add(*permissions)
