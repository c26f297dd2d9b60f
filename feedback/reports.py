"""The figures behind `/console/reports/`: each table is one aggregate query (two for percentiles
off PostgreSQL), whatever the number of cases. Filters: filed between two dates, one reason."""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models import (
    Case as When_,
)
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone

from disputes.models import Case, Decision, Order, Reason
from feedback.models import SurveyResponse

PATHS = {"agreed": "Agreed by the parties", "automated": "Automated (policy rule)", "agent": "Decided by an agent"}
HUMAN_STAGES = [Decision.Stage.MEDIATION, Decision.Stage.APPEAL]
TOP_SELLERS = 10


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # inclusive
    reason: str = ""

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


def default_filters(*, today: date) -> ReportFilters:
    return ReportFilters(start=today - timedelta(days=89), end=today)


def cases_in(filters: ReportFilters) -> QuerySet[Case]:
    cases = Case.objects.filter(filed_at__gte=filters.since, filed_at__lt=filters.until)
    return cases.filter(reason=filters.reason) if filters.reason else cases


def _with_path(cases: QuerySet[Case]) -> QuerySet[Case]:
    human = Decision.objects.filter(case=OuterRef("pk"), stage__in=HUMAN_STAGES)
    automatic = Decision.objects.filter(case=OuterRef("pk"), stage=Decision.Stage.AUTOMATIC)
    return cases.annotate(
        path=When_(
            When(Exists(human), then=Value("agent")),
            When(Exists(automatic), then=Value("automated")),
            default=Value("agreed"),
            output_field=CharField(),
        )
    )


class _Seconds(Func):
    """Seconds between resolution and filing, on PostgreSQL."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    output_field = FloatField()


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: the value below which `fraction` of the rows fall."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks: what percentile_cont computes."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def cases_per_week(filters: ReportFilters) -> list[dict]:
    """Rows: week (a Monday), reason, count."""
    rows = (
        cases_in(filters)
        .annotate(week=TruncWeek("filed_at"))
        .values("week", "reason")
        .annotate(cases=Count("pk"))
        .order_by("week", "reason")
    )
    return [{"week": _day(row["week"]), "reason": row["reason"], "cases": row["cases"]} for row in rows]


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def resolution_times(filters: ReportFilters, *, by: str) -> list[dict]:
    """Median and 90th percentile hours from filing to resolution, grouped `by` "reason" or "path"."""
    resolved = _with_path(cases_in(filters).filter(resolved_at__isnull=False))
    if connection.vendor == "postgresql":
        seconds = _Seconds(F("resolved_at") - F("filed_at"))
        rows = (
            resolved.values(by)
            .annotate(cases=Count("pk"), median=PercentileCont(seconds, 0.5), p90=PercentileCont(seconds, 0.9))
            .order_by(by)
        )
        return [_hours_row(row[by], row["cases"], row["median"], row["p90"]) for row in rows]
    # SQLite has no percentile_cont: read the durations of the filtered cases, sorted, and interpolate.
    groups: dict[str, list[float]] = {}
    for key, filed_at, resolved_at in resolved.values_list(by, "filed_at", "resolved_at"):
        groups.setdefault(key, []).append((resolved_at - filed_at).total_seconds())
    result = []
    for key in sorted(groups):
        values = sorted(groups[key])
        result.append(_hours_row(key, len(values), percentile(values, 0.5), percentile(values, 0.9)))
    return result


def _hours_row(key, cases, median, p90) -> dict:
    return {
        "group": key,
        "cases": cases,
        "median_hours": round(median / 3600, 1) if median is not None else None,
        "p90_hours": round(p90 / 3600, 1) if p90 is not None else None,
    }


def deadline_compliance(filters: ReportFilters) -> list[dict]:
    """Sellers: answers given by the answer deadline, of those due. Agents: mediation decisions by their target."""
    now = timezone.now()
    answered = Q(seller_answered_at__isnull=False)
    sellers = cases_in(filters).aggregate(
        due=Count("pk", filter=answered | Q(seller_answer_due_at__lte=now)),
        met=Count("pk", filter=answered & Q(seller_answered_at__lte=F("seller_answer_due_at"))),
    )
    agents = Decision.objects.filter(stage=Decision.Stage.MEDIATION, case__in=cases_in(filters)).aggregate(
        due=Count("pk"), met=Count("pk", filter=Q(decided_at__lte=F("case__agent_decision_due_at")))
    )
    return [
        {"who": "Sellers (answer by the deadline)", **sellers, "rate": _rate(sellers["met"], sellers["due"])},
        {"who": "Agents (decide by the target)", **agents, "rate": _rate(agents["met"], agents["due"])},
    ]


def _rate(part, whole):
    return round(part * 100 / whole, 1) if whole else None


def resolved_without_agent(filters: ReportFilters) -> dict:
    human = Decision.objects.filter(case=OuterRef("pk"), stage__in=HUMAN_STAGES)
    row = (
        cases_in(filters)
        .filter(resolved_at__isnull=False)
        .aggregate(resolved=Count("pk"), without_agent=Count("pk", filter=Q(agent__isnull=True) & ~Q(Exists(human))))
    )
    return {**row, "rate": _rate(row["without_agent"], row["resolved"])}


def satisfaction_trend(filters: ReportFilters) -> list[dict]:
    """Average survey score per week the answers were given, on the filtered cases."""
    rows = (
        SurveyResponse.objects.filter(case__in=cases_in(filters))
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(answers=Count("pk"), average=Avg("score"))
        .order_by("week")
    )
    return [{"week": _day(r["week"]), "answers": r["answers"], "average": round(float(r["average"]), 2)} for r in rows]


def top_dispute_rates(filters: ReportFilters, *, limit: int = TOP_SELLERS) -> list[dict]:
    """Sellers with the most cases per order placed in the period (cases filtered by reason too)."""
    case_filter = Q(cases__filed_at__gte=filters.since, cases__filed_at__lt=filters.until)
    if filters.reason:
        case_filter &= Q(cases__reason=filters.reason)
    rows = (
        Order.objects.filter(placed_at__gte=filters.since, placed_at__lt=filters.until)
        .values("seller", "seller__username")
        .annotate(orders=Count("pk", distinct=True), cases=Count("cases", filter=case_filter, distinct=True))
        .filter(cases__gt=0)
        .annotate(rate=Cast("cases", FloatField()) * 100.0 / Cast("orders", FloatField()))
        .order_by("-rate", "-cases", "seller__username")[:limit]
    )
    return [
        {"seller": r["seller__username"], "orders": r["orders"], "cases": r["cases"], "rate": round(r["rate"], 1)}
        for r in rows
    ]


def appeals(filters: ReportFilters) -> dict:
    """Appeals on the filtered cases; decided ones, and those whose outcome differs from the decision appealed."""
    earlier = Decision.objects.filter(
        case=OuterRef("case"), stage__in=[Decision.Stage.AUTOMATIC, Decision.Stage.MEDIATION]
    )
    appealed = cases_in(filters).filter(appealed_by__isnull=False)
    decided = Decision.objects.filter(stage=Decision.Stage.APPEAL, case__in=cases_in(filters)).aggregate(
        decided=Count("pk"),
        overturned=Count("pk", filter=Q(Exists(earlier)) & ~Q(Exists(earlier.filter(outcome=OuterRef("outcome"))))),
    )
    return {"appealed": appealed.count(), **decided, "rate": _rate(decided["overturned"], decided["decided"])}


REASONS = dict(Reason.choices)


def report(filters: ReportFilters) -> dict:
    weekly = cases_per_week(filters)
    return {
        "weekly": weekly,
        "by_reason": resolution_times(filters, by="reason"),
        "by_path": resolution_times(filters, by="path"),
        "compliance": deadline_compliance(filters),
        "without_agent": resolved_without_agent(filters),
        "satisfaction": satisfaction_trend(filters),
        "top_sellers": top_dispute_rates(filters),
        "appeals": appeals(filters),
    }


def report_table(filters: ReportFilters, table: str) -> list[dict]:
    """One table of the report, as rows (for CSV): only that table's query runs."""
    single = {
        "weekly": lambda: cases_per_week(filters),
        "by_reason": lambda: resolution_times(filters, by="reason"),
        "by_path": lambda: resolution_times(filters, by="path"),
        "compliance": lambda: deadline_compliance(filters),
        "satisfaction": lambda: satisfaction_trend(filters),
        "top_sellers": lambda: top_dispute_rates(filters),
        "without_agent": lambda: [resolved_without_agent(filters)],
        "appeals": lambda: [appeals(filters)],
    }
    return single[table]()
