from datetime import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from policies.models import Policy


def policy_published_list(*, at: datetime) -> QuerySet[Policy]:
    return Policy.objects.filter(is_published=True, effective_from__lte=at).order_by("kind", "title")


def policy_published_get(*, slug: str, at: datetime) -> Policy:
    return get_object_or_404(policy_published_list(at=at), slug=slug)


def dispute_policy_in_force(*, at: datetime) -> Policy | None:
    """The published disputes policy that took effect most recently before `at`."""
    return (
        Policy.objects.filter(kind=Policy.Kind.DISPUTES, is_published=True, effective_from__lte=at)
        .order_by("-effective_from", "-pk")
        .first()
    )


def policy_current_version(*, policy: Policy):
    """The history row of the policy as it stands now: what a new case pins."""
    return policy.history.order_by("-history_id").first()
