from policies.models import Policy
from tests import factories


def admin_form(policy, **changes):
    data = {
        "title": policy.title,
        "slug": policy.slug,
        "kind": policy.kind,
        "body": policy.body,
        "is_published": "on" if policy.is_published else "",
        "effective_from_0": policy.effective_from.strftime("%Y-%m-%d"),
        "effective_from_1": policy.effective_from.strftime("%H:%M:%S"),
        "filing_window_days": policy.filing_window_days,
        "seller_answer_hours": policy.seller_answer_hours,
        "buyer_wait_hours": policy.buyer_wait_hours,
        "agent_decision_hours": policy.agent_decision_hours,
        "return_shipping_days": policy.return_shipping_days,
        "appeal_window_days": policy.appeal_window_days,
        "auto_resolve_limit": str(policy.auto_resolve_limit),
        "offer_response_hours": policy.offer_response_hours,
        "buyer_inactivity_days": policy.buyer_inactivity_days,
        "return_confirm_days": policy.return_confirm_days,
        "senior_escalation_hours": policy.senior_escalation_hours,
        "reminder_hours": policy.reminder_hours,
        "holidays": policy.holidays,
        "count_business_days": "on" if policy.count_business_days else "",
        "auto_rule_not_received": "on" if policy.auto_rule_not_received else "",
        "auto_rule_seller_silent": "on" if policy.auto_rule_seller_silent else "",
        "change_reason": "",
    }
    data.update(changes)
    return data


def test_policy_admin_edit_saves_a_new_version_with_editor_and_reason(client, admin_user, policy):
    client.force_login(admin_user)

    response = client.post(
        f"/admin/policies/policy/{policy.pk}/change/",
        admin_form(policy, seller_answer_hours=48, change_reason="Sellers answer faster now"),
    )

    assert response.status_code == 302
    policy = Policy.objects.get(pk=policy.pk)
    assert (policy.version, policy.seller_answer_hours) == (2, 48)
    latest = policy.history.order_by("-history_id").first()
    assert latest.history_user == admin_user
    assert latest.history_change_reason == "Sellers answer faster now"
    assert latest.seller_answer_hours == 48
    history_page = client.get(f"/admin/policies/policy/{policy.pk}/history/")
    assert "Sellers answer faster now" in history_page.text


def test_policy_admin_edit_without_a_reason_is_refused_and_changes_nothing(client, admin_user, policy):
    client.force_login(admin_user)

    response = client.post(f"/admin/policies/policy/{policy.pk}/change/", admin_form(policy, seller_answer_hours=1))

    assert response.status_code == 200
    assert "This field is required" in response.text
    assert Policy.objects.get(pk=policy.pk).seller_answer_hours == 72
    assert policy.history.count() == 1


def test_policy_admin_rejects_a_zero_answer_window(client, admin_user, policy):
    client.force_login(admin_user)

    response = client.post(
        f"/admin/policies/policy/{policy.pk}/change/", admin_form(policy, seller_answer_hours=0, change_reason="x")
    )

    assert response.status_code == 200
    assert Policy.objects.get(pk=policy.pk).version == 1


def test_policy_editor_group_may_edit_policies_but_not_cases(client, db, policy):
    from django.contrib.auth.models import Group

    from disputes.roles import POLICY_EDITORS

    editor = factories.UserFactory(is_staff=True)
    editor.groups.add(Group.objects.get(name=POLICY_EDITORS))
    client.force_login(editor)

    assert client.get(f"/admin/policies/policy/{policy.pk}/change/").status_code == 200
    assert client.get("/admin/disputes/case/").status_code == 403
