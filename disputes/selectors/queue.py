"""The staff console's mediation queue: its cases, pages, filters, row actions and counts.

The counts are cached and forgotten whenever a case is saved or deleted; the receiver below is
connected by DisputesConfig.ready(), so in every process, not only where the console is served."""

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_fsm import has_transition_perm

from disputes import lookups  # noqa: F401  (registers field__in_constants)
from disputes.cached import forget, remembered
from disputes.filters import QUEUE_STATES, QueueFilter
from disputes.models import Case
from disputes.pagination import Keyset, KeysetPage, keyset_page_or_first
from disputes.permissions import is_senior_agent_user
from disputes.selectors import console_case_list

S = Case.State

QUEUE_LIMIT = 25  # rows on one page of the queue; "Next page" shows the following ones

# The queue's order (least time left to decide first) as keyset pages; a case without a
# decision date (none in the queue's states once escalated) comes last.
QUEUE_KEYSET = Keyset(
    field="agent_decision_due_at",
    descending=False,
    groups=[Q(agent_decision_due_at__isnull=False), Q(agent_decision_due_at__isnull=True)],
    group_of=lambda case: 0 if case.agent_decision_due_at is not None else 1,
    ordering=[F("agent_decision_due_at").asc(nulls_last=True), "pk"],
)


# What a queue row shows, so that a page loads no other column: the case's own columns, and its
# order's and people's beside them as plain values (no model instance for each).
QUEUE_ROW_COLUMNS = [
    *("state", "reason", "amount_claimed", "currency", "agent_decision_due_at", "raised_to_seniors_at"),
    *("buyer", "seller", "agent"),
]
QUEUE_ROW_VALUES = {
    "item_title": F("order__item_title"),
    "seller_username": F("seller__username"),
    **{
        f"{person}_{name}": F(f"{person}__{name}")
        for person in ("buyer", "agent")
        for name in ("username", "first_name", "last_name")
    },
}


def queue_filter(*, user, filters=None) -> QueueFilter:
    """The mediation queue filtered by `filters` (the query string); the FilterSet's `.qs` is the
    list and `.form` its form."""
    return QueueFilter(filters, queryset=queue_list(user=user), user=user)


def queue_filtered(filters) -> bool:
    """Whether a query string asks for any of the queue's filters (else `queue_list` is the list)."""
    return filters is not None and any(name in filters for name in QueueFilter.base_filters)


def queue_list(*, user) -> QuerySet[Case]:
    """The mediation queue (escalated, in mediation, appealed), least time left to decide first."""
    return (
        console_case_list(user=user)
        .select_related(None)
        .only(*QUEUE_ROW_COLUMNS)
        .filter(state__in_constants=QUEUE_STATES)  # so a prepared plan can use case_queue_order
        .order_by(*QUEUE_KEYSET.ordering)
    )


def queue_page(*, cases: QuerySet[Case], cursor: str | None) -> KeysetPage:
    """A page of the queue (`cases`: a queue_filter's list) with what its rows show."""
    return keyset_page_or_first(cases.annotate(**QUEUE_ROW_VALUES), QUEUE_KEYSET, cursor=cursor, size=QUEUE_LIMIT)


def queue_row_actions(*, cases, user) -> list[str | None]:
    """What each row of a queue page (`cases`: a queue_page's rows) offers `user`: "claim" (the
    machine's claim, open to them), "take_appeal" (an unassigned appeal, to a senior agent),
    "seniors_only" (the same appeal, to others), or None. The services stay the judge."""
    # The queue leaves out the agent's own cases, so being senior is the same on every row.
    senior = is_senior_agent_user(user)
    return [_queue_row_action(case, user, senior=senior) for case in cases]


def _queue_row_action(case: Case, user, *, senior: bool) -> str | None:
    if case.agent_id:
        return None
    if case.state == S.ESCALATED:
        return "claim" if has_transition_perm(case.claim, user) else None
    if case.state == S.APPEALED:
        return "take_appeal" if senior else "seniors_only"
    return None


QUEUE_COUNT_CAP = 1000  # a tab shows "1000+" beyond this: counting stops there


def queue_counts(*, user, filters=None) -> dict[str, int]:
    """Cases per queue state under the other filters (the state filter itself left out), and overdue.

    Each count stops at QUEUE_COUNT_CAP + 1 (more than the cap: "1000+"), so a long queue costs
    no more to count than a short one."""
    data = filters.copy() if filters is not None else {}
    data.pop("state", None)

    def count():
        cases = queue_filter(user=user, filters=data).qs
        return capped_counts(
            {
                "total": cases,
                "overdue": cases.filter(agent_decision_due_at__lt=timezone.now()),
                **{state.value: cases.filter(state=state) for state in QUEUE_STATES},
            },
            cap=QUEUE_COUNT_CAP,
        )

    # Every agent's queue page and live refresh asks; a saved case starts the counts afresh.
    key = repr((user.pk, sorted((name, value) for name, value in data.items() if name in QueueFilter.base_filters)))
    return remembered(QUEUE, key, count, seconds=QUEUE_COUNT_SECONDS)


QUEUE = "queue"
QUEUE_COUNT_SECONDS = 10  # the longest an "overdue" count lags the clock


@receiver(post_save, sender=Case, dispatch_uid="disputes.queue_counts.case_saved")
@receiver(post_delete, sender=Case, dispatch_uid="disputes.queue_counts.case_deleted")
def _case_changed(sender, **kwargs):
    forget(QUEUE)


def capped_counts(querysets: dict[str, QuerySet], *, cap: int) -> dict[str, int]:
    """The rows of each queryset, counted up to cap + 1, all in one query."""
    selects, params = [], []
    for queryset in querysets.values():
        sql, query_params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) capped)")
        params.extend(query_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        return dict(zip(querysets, cursor.fetchone(), strict=True))
