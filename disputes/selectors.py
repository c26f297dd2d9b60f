"""Reads, scoped to what the user may see. A case outside the scope is simply not found."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case as Choose
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404

from disputes.models import Case, CaseViewer, Evidence, Message, Notification, Offer, Order
from disputes.permissions import is_agent_user
from policies.selectors import dispute_policy_in_force, policy_current_version

S = Case.State


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


def case_list_as_buyer(*, user) -> QuerySet[Case]:
    """The buyer's cases, the ones waiting on them first, then by the next deadline."""
    return (
        Case.objects.filter(buyer=user)
        .select_related("order", "seller")
        .annotate(
            waiting_on_you=Choose(
                When(state=S.AWAITING_BUYER, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("waiting_on_you", "-filed_at", "-pk")
    )


# The resolution center's tabs: which states each one holds.
SELLER_BUCKETS = {
    "needs_answer": ("Needs your answer", [S.OPEN]),
    "waiting_for_buyer": ("Waiting for the buyer", [S.AWAITING_BUYER, S.AWAITING_RETURN]),
    "with_platform": ("With our team", [S.ESCALATED, S.IN_MEDIATION, S.APPEALED]),
    "closed": ("Closed", [S.RESOLVED, S.CLOSED, S.WITHDRAWN]),
}


def case_list_as_seller(*, user, bucket: str | None = None) -> QuerySet[Case]:
    """Cases against the seller's orders, those with the least time left to answer first."""
    cases = Case.objects.filter(seller=user).select_related("order", "buyer")
    if bucket in SELLER_BUCKETS:
        cases = cases.filter(state__in=SELLER_BUCKETS[bucket][1])
    return cases.annotate(
        needs_answer=Choose(When(state=S.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("needs_answer", "seller_answer_due_at", "-pk")


def seller_case_counts(*, user) -> dict[str, int]:
    counts = Case.objects.filter(seller=user).aggregate(
        **{key: Count("pk", filter=Q(state__in=states)) for key, (_, states) in SELLER_BUCKETS.items()}
    )
    return counts


def order_list_for_buyer(*, user) -> QuerySet[Order]:
    active = Case.objects.filter(order=OuterRef("pk"), state__in=Case.ACTIVE_STATES)
    return (
        Order.objects.filter(buyer=user)
        .select_related("seller")
        .annotate(has_active_case=Exists(active))
        .prefetch_related("cases")
        .order_by("-placed_at", "-pk")
    )


@dataclass(frozen=True)
class FilingTerms:
    """What the buyer is told before filing: until when, and how long the seller has."""

    window_closes_at: datetime
    seller_answer_hours: int
    buyer_wait_hours: int
    is_open: bool


def filing_terms(*, order: Order, at: datetime) -> FilingTerms | None:
    policy = dispute_policy_in_force(at=at)
    if policy is None:
        return None
    rules = policy_current_version(policy=policy)
    closes_at = order.filing_window_starts_at + timedelta(days=rules.filing_window_days)
    return FilingTerms(closes_at, rules.seller_answer_hours, rules.buyer_wait_hours, at <= closes_at)


@dataclass(frozen=True)
class CaseRecord:
    """Everything on a case that this user may see, in a fixed number of queries."""

    history: list
    messages: list[Message]
    evidence: list[Evidence]
    offers: list[Offer]


def case_record(*, case: Case, user) -> CaseRecord:
    messages = case.messages.select_related("author")
    if not is_agent_user(user):
        messages = messages.filter(is_internal=False)
    return CaseRecord(
        history=list(case.history.select_related("history_user").order_by("history_date", "history_id")),
        messages=list(messages),
        evidence=list(case.evidence.select_related("uploaded_by")),
        offers=list(case.offers.select_related("made_by")),
    )


def evidence_get(*, user, reference: str, pk: int) -> Evidence:
    case = case_get(user=user, reference=reference)
    evidence = Evidence.objects.filter(case=case, pk=pk).first()
    if evidence is None:
        raise Http404("No such file.")
    return evidence


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("case")


def unread_notification_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def message_list_after(*, case: Case, user, after_id: int) -> QuerySet[Message]:
    """Messages after `after_id` that this user may see: what a reconnecting client missed."""
    messages = case.messages.filter(pk__gt=after_id).select_related("author").order_by("pk")
    if not is_agent_user(user):
        messages = messages.filter(is_internal=False)
    return messages


def case_viewer_names(*, case: Case) -> list[str]:
    viewers = CaseViewer.objects.filter(case=case).select_related("agent").order_by("connected_at")
    names = []
    for viewer in viewers:
        name = viewer.agent.get_full_name() or viewer.agent.username
        if name not in names:
            names.append(name)
    return names
