from policies.admin import PolicyAdmin
from policies.models import Policy
from tests import factories


def admin_form(policy, **changes):
    """What the admin's change form posts for `policy` as it stands, with `changes` applied."""
    data = {"change_reason": ""}
    for name in (field for fieldset in PolicyAdmin.fieldsets for field in fieldset[1]["fields"]):
        if name in ("version", "change_reason"):
            continue
        value = getattr(policy, name)
        if name == "effective_from":
            data["effective_from_0"] = value.strftime("%Y-%m-%d")
            data["effective_from_1"] = value.strftime("%H:%M:%S")
        elif isinstance(value, bool):
            data[name] = "on" if value else ""
        else:
            data[name] = str(value)
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
