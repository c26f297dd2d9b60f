"""Reads, scoped to what the user may see. A case outside the scope is simply not found."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Case as Choose
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from disputes.models import (
    Case,
    CaseViewer,
    Decision,
    Evidence,
    EvidenceRequest,
    Message,
    Notification,
    Offer,
    Order,
    RefundInstruction,
)
from disputes.pagination import Keyset
from disputes.permissions import is_agent, is_agent_user, is_service_account
from disputes.selectors.people import agent_is_available, unread_notification_count  # noqa: F401 (part of the API)
from feedback.selectors import Satisfaction, satisfaction_given
from policies.selectors import dispute_policy_in_force, policy_current_version

S = Case.State


def case_list(*, user) -> QuerySet[Case]:
    """The cases `user` may see: all of them for agents and the marketplace's service account,
    else those where they are a party."""
    cases = Case.objects.select_related("order", "buyer", "seller", "agent", "policy_version")
    if is_agent_user(user) or is_service_account(user):
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


def order_list(*, user) -> QuerySet[Order]:
    """The orders `user` may see: all of them for agents and the service account, else those
    they bought or sold."""
    orders = Order.objects.select_related("buyer", "seller")
    if is_agent_user(user) or is_service_account(user):
        return orders
    if not user.is_authenticated:
        return orders.none()
    return orders.filter(Q(buyer=user) | Q(seller=user))


def order_get(*, user, external_id: str) -> Order:
    """One order by its marketplace id, or 404 when it does not exist or is not the user's to see."""
    if "\x00" in external_id:  # no id has one, and PostgreSQL refuses it in a query
        raise Http404("No such order.")
    order = order_list(user=user).filter(external_id=external_id).first()
    if order is None:
        raise Http404("No such order.")
    return order


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
        .order_by(*BUYER_CASES_KEYSET.ordering)
    )


# My cases, a page at a time: those waiting on the buyer, then the others, newest first in each.
BUYER_CASES_KEYSET = Keyset(
    field="filed_at",
    descending=True,
    groups=[Q(state=S.AWAITING_BUYER), ~Q(state=S.AWAITING_BUYER)],
    group_of=lambda case: 0 if case.state == S.AWAITING_BUYER else 1,
    ordering=["waiting_on_you", "-filed_at", "-pk"],
)


# The resolution center's tabs: which states each one holds.
SELLER_BUCKETS = {
    "needs_answer": ("Needs your answer", [S.OPEN]),
    "waiting_for_buyer": ("Waiting for the buyer", [S.AWAITING_BUYER, S.AWAITING_RETURN]),
    "with_platform": ("With our team", [S.ESCALATED, S.IN_MEDIATION, S.APPEALED]),
    "closed": ("Closed", [S.RESOLVED, S.CLOSED, S.WITHDRAWN]),
}


# The resolution center as keyset pages: the cases waiting for the seller's answer first, then
# the others, each by the answer's due date.
SELLER_CASES_KEYSET = Keyset(
    field="seller_answer_due_at",
    descending=False,
    groups=[Q(state=S.OPEN), ~Q(state=S.OPEN)],
    group_of=lambda case: 0 if case.state == S.OPEN else 1,
    ordering=["needs_answer", "seller_answer_due_at", "pk"],
)


def case_list_as_seller(*, user, bucket: str | None = None) -> QuerySet[Case]:
    """Cases against the seller's orders, those with the least time left to answer first."""
    cases = Case.objects.filter(seller=user).select_related("order", "buyer")
    if bucket in SELLER_BUCKETS:
        cases = cases.filter(state__in=SELLER_BUCKETS[bucket][1])
    return cases.annotate(
        needs_answer=Choose(When(state=S.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by(*SELLER_CASES_KEYSET.ordering)


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
        .order_by(*BUYER_ORDERS_KEYSET.ordering)
    )


# My orders, a page at a time, newest first (read from the order_buyer_newest index).
BUYER_ORDERS_KEYSET = Keyset(
    field="placed_at", descending=True, groups=[Q()], group_of=lambda order: 0, ordering=["-placed_at", "-pk"]
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
    decisions: list


def case_record(*, case: Case, user) -> CaseRecord:
    messages = case.messages.select_related("author")
    if not is_agent(case, user):  # internal notes: agents only, and never an agent who is a party here
        messages = messages.filter(is_internal=False)
    return CaseRecord(
        history=list(case.history.select_related("history_user").order_by("history_date", "history_id")),
        messages=list(messages),
        evidence=list(case.evidence.select_related("uploaded_by")),
        offers=list(case.offers.select_related("made_by")),
        decisions=list(case.decisions.all()),
    )


def evidence_get(*, user, reference: str, pk: int) -> Evidence:
    case = case_get(user=user, reference=reference)
    evidence = Evidence.objects.filter(case=case, pk=pk).first()
    if evidence is None:
        raise Http404("No such file.")
    return evidence


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("case")


def message_list_after(*, case: Case, user, after_id: int) -> QuerySet[Message]:
    """Messages after `after_id` that this user may see: what a reconnecting client missed."""
    messages = case.messages.filter(pk__gt=after_id).select_related("author").order_by("pk")
    if not is_agent(case, user):
        messages = messages.filter(is_internal=False)
    return messages


def case_viewer_names(*, case: Case, exclude=None) -> list[str]:
    """The agents with the case open (one name each), without `exclude` (the one asking), in the
    order they opened it. A row its socket's server no longer renews (the server died) is left out."""
    seen_since = timezone.now() - CaseViewer.EXPIRES_AFTER
    viewers = (
        CaseViewer.objects.filter(case=case, seen_at__gte=seen_since).select_related("agent").order_by("connected_at")
    )
    if exclude is not None:
        viewers = viewers.exclude(agent=exclude)
    names = []
    for viewer in viewers:
        name = viewer.agent.get_full_name() or viewer.agent.username
        if name not in names:
            names.append(name)
    return names


# The staff console (its queue: disputes/selectors/queue.py)


def console_case_list(*, user) -> QuerySet[Case]:
    """The cases an agent works on in the console: every case but their own (as buyer or seller)."""
    if not is_agent_user(user):
        return Case.objects.none()
    return case_list(user=user).exclude(Q(buyer=user) | Q(seller=user))


def console_case_get(*, user, reference: str) -> Case:
    pk = Case.pk_from_reference(reference)
    case = console_case_list(user=user).filter(pk=pk).first() if pk else None
    if case is None:
        raise Http404("No such case.")
    return case


@dataclass(frozen=True)
class PartyHistory:
    """One side of a case as the agent weighs it: their other cases and how they rated us."""

    user: object
    other_cases: list[Case]  # the latest few, on the same side (as buyer, or as seller)
    case_count: int  # all their cases on this side, this one included
    satisfaction: Satisfaction | None


@dataclass(frozen=True)
class Workspace:
    """Everything an agent needs to decide a case, in a fixed number of queries."""

    record: CaseRecord
    decisions: list[Decision]
    evidence_requests: list[EvidenceRequest]
    refunds: list[RefundInstruction]
    buyer: PartyHistory
    seller: PartyHistory
    seller_orders: int  # over all time: the seller's dispute rate is seller.case_count / seller_orders
    other_viewers: list[str]


PAST_CASES_SHOWN = 10


def case_workspace(*, case: Case, user) -> Workspace:
    """The case, its whole record (internal notes included) and both parties' history."""
    totals = Case.objects.filter(Q(buyer=case.buyer_id) | Q(seller=case.seller_id)).aggregate(
        as_buyer=Count("pk", filter=Q(buyer=case.buyer_id)), as_seller=Count("pk", filter=Q(seller=case.seller_id))
    )
    others = Case.objects.exclude(pk=case.pk).select_related("order").order_by("-filed_at", "-pk")
    rated = satisfaction_given(users=[case.buyer_id, case.seller_id])
    return Workspace(
        record=case_record(case=case, user=user),
        decisions=list(case.decisions.select_related("decided_by")),
        evidence_requests=list(case.evidence_requests.select_related("requested_from", "requested_by")),
        refunds=list(case.refunds.all()),
        buyer=PartyHistory(
            case.buyer,
            list(others.filter(buyer=case.buyer_id)[:PAST_CASES_SHOWN]),
            totals["as_buyer"],
            rated.get(case.buyer_id),
        ),
        seller=PartyHistory(
            case.seller,
            list(others.filter(seller=case.seller_id)[:PAST_CASES_SHOWN]),
            totals["as_seller"],
            rated.get(case.seller_id),
        ),
        seller_orders=Order.objects.filter(seller=case.seller_id).count(),
        other_viewers=case_viewer_names(case=case, exclude=user),
    )


def agents_to_reassign_to(*, case: Case) -> QuerySet:
    """Who may take the case over: agents (senior agents for an appeal) other than its parties
    and its current agent."""
    User = get_user_model()
    permission = "disputes.decide_appeal" if case.state == Case.State.APPEALED else "disputes.mediate_case"
    return (
        # Named: with a second backend (sign-in lockout) Django cannot pick one by itself.
        User.objects.with_perm(permission, backend="disputes.backends.CachedPermissionsBackend")
        .exclude(pk__in=[case.buyer_id, case.seller_id, case.agent_id or 0])
        .order_by("username")
    )


def evidence_requests_for(*, case: Case, user) -> list[EvidenceRequest]:
    """The requests for evidence addressed to `user` on `case` that are still open."""
    return list(
        EvidenceRequest.objects.filter(
            case=case, requested_from=user, fulfilled_at__isnull=True, due_at__gte=timezone.now()
        ).order_by("due_at", "pk")
    )


def orders_to_file_on(*, user) -> QuerySet[Order]:
    """The buyer's orders the filing form takes (named by link or sent). Cancelled ones too: being
    charged for one is a billing problem, the one reason case_file takes on them."""
    return Order.objects.filter(buyer=user)


def orders_open_for_filing(*, user, at: datetime) -> QuerySet[Order]:
    """Of orders_to_file_on, those a case can be opened on at `at`, newest first: inside the filing
    window of the policy in force and without an active case, as case_file checks (a cancelled one
    for a billing problem only, which the form says). None without a policy in force."""
    policy = dispute_policy_in_force(at=at)
    if policy is None:
        return Order.objects.none()
    rules = policy_current_version(policy=policy)
    active = Case.objects.filter(order=OuterRef("pk"), state__in=Case.ACTIVE_STATES)
    return (
        orders_to_file_on(user=user)
        .filing_window_open(window_days=rules.filing_window_days, at=at)
        .exclude(Exists(active))
        .order_by("-placed_at", "-pk")
    )
