from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from policies.models import Policy


@transaction.atomic
def policy_save(*, policy: Policy, actor: AbstractBaseUser | None, reason: str = "") -> Policy:
    """Save a new version of a policy; cases filed earlier keep the version they pinned."""
    if policy.pk is not None:
        current = Policy.objects.select_for_update().get(pk=policy.pk)
        policy.version = current.version + 1
    policy.full_clean()
    policy._history_user = actor
    policy._change_reason = reason or ("Policy created" if policy.pk is None else "Policy edited")
    policy.save()
    return policy
