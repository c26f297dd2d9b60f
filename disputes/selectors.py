from django.db.models import Q, QuerySet
from django.http import Http404

from disputes.models import Case
from disputes.permissions import is_agent_user


def case_list(*, user) -> QuerySet[Case]:
    """The cases `user` may see: all of them for agents, else those where they are a party."""
    cases = Case.objects.select_related("order", "buyer", "seller", "agent", "policy_version")
    if is_agent_user(user):
        return cases
    if not user.is_authenticated:
        return cases.none()
    return cases.filter(Q(buyer=user) | Q(seller=user))


def case_get(*, user, reference: str) -> Case:
    """One case by reference, or 404 when it does not exist or is not the user's to see."""
    pk = Case.pk_from_reference(reference)
    case = case_list(user=user).filter(pk=pk).first() if pk else None
    if case is None:
        raise Http404("No such case.")
    return case
