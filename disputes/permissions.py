"""Who may do what. Used at the entry (views, API), the object (selectors) and the action (FSM)."""

from django.conf import settings


def is_system(instance, user) -> bool:
    return is_system_user(user)


def is_system_user(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.username == settings.SYSTEM_USERNAME
        and not user.has_usable_password()
    )


def is_agent_user(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("disputes.mediate_case"))


def is_senior_agent_user(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("disputes.decide_appeal"))


def is_service_account(user) -> bool:
    """The marketplace's integration: it pushes orders and reads every case, and never acts on one.
    Its permission comes from a group ("Marketplace integrations"); a superuser, who has every
    permission, is an admin, not the integration."""
    return bool(
        user is not None
        and user.is_authenticated
        and not user.is_superuser
        and user.has_perm("disputes.sync_orders")
    )


def can_view_case(user, case) -> bool:
    return is_agent_user(user) or is_case_party(case, user)


# FSM `permission=` predicates take (case, user).


def is_case_buyer(case, user) -> bool:
    return user is not None and user.is_authenticated and case.buyer_id == user.pk


def is_case_seller(case, user) -> bool:
    return user is not None and user.is_authenticated and case.seller_id == user.pk


def is_case_party(case, user) -> bool:
    return is_case_buyer(case, user) or is_case_seller(case, user)


def is_agent(case, user) -> bool:
    return is_agent_user(user) and not is_case_party(case, user)


def is_assigned_agent(case, user) -> bool:
    return is_agent(case, user) and case.agent_id == user.pk


def is_senior_agent(case, user) -> bool:
    return is_senior_agent_user(user) and not is_case_party(case, user)


def is_assigned_senior_agent(case, user) -> bool:
    return is_senior_agent(case, user) and case.agent_id == user.pk


def is_agent_or_system(case, user) -> bool:
    return is_agent(case, user) or is_system_user(user)
