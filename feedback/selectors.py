"""Reads for feedback: surveys, trade feedback scores and seller performance.

Every figure is one aggregate query (or a fixed few), whatever the number of rows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from disputes.models import Case, Decision, Order, Outcome
from disputes.permissions import is_case_party
from feedback.models import SurveyResponse, TradeFeedback
from policies.models import Policy
from policies.selectors import dispute_policy_in_force

SURVEYED_STATES = (Case.State.RESOLVED, Case.State.CLOSED)
FEEDBACK_SCORE_DAYS = 365
CASE_OVER_STATES = (Case.State.RESOLVED, Case.State.CLOSED, Case.State.WITHDRAWN)


def survey_open(case: Case) -> bool:
    """A case is surveyed once it ended with an outcome. Withdrawn cases and cases closed for the
    buyer's inactivity (closed without an outcome) ended without anyone's involvement: no survey."""
    return case.state in SURVEYED_STATES and bool(case.outcome)


def survey_pending_for(*, case: Case, user) -> bool:
    return (
        survey_open(case)
        and is_case_party(case, user)
        and not SurveyResponse.objects.filter(case=case, respondent=user).exists()
    )


@dataclass(frozen=True)
class Satisfaction:
    """How a person rated our handling of their finished cases."""

    average: float
    ratings: int


def satisfaction_given(*, users) -> dict[int, Satisfaction]:
    """The average survey score each of `users` gave, by user id; absent when they never rated."""
    rows = (
        SurveyResponse.objects.filter(respondent__in=users)
        .values("respondent")
        .annotate(average=Avg("score"), ratings=Count("pk"))
        .order_by()
    )
    return {row["respondent"]: Satisfaction(float(row["average"]), row["ratings"]) for row in rows}


# Trade feedback


def feedback_policy(*, at: datetime) -> Policy:
    """The disputes policy in force, or the defaults when none is published."""
    return dispute_policy_in_force(at=at) or Policy()


@dataclass(frozen=True)
class FeedbackScore:
    """Feedback a person received over the last 12 months, withdrawn feedback left out.

    `positive_share` is positive / (positive + negative), in percent, as eBay counts it: a
    neutral rating counts neither way. None when there is no positive or negative rating."""

    positive: int = 0
    neutral: int = 0
    negative: int = 0

    @property
    def total(self) -> int:
        return self.positive + self.neutral + self.negative

    @property
    def positive_share(self) -> Decimal | None:
        rated = self.positive + self.negative
        if not rated:
            return None
        return (Decimal(self.positive) * 100 / rated).quantize(Decimal("0.1"))


def feedback_scores(*, user_ids, at: datetime) -> dict[int, FeedbackScore]:
    """Scores of `user_ids` as of `at`, by user id (an empty score for someone never rated). One query."""
    user_ids = list(user_ids)
    rows = (
        TradeFeedback.objects.filter(
            recipient__in=user_ids,
            withdrawn_at__isnull=True,
            created_at__gt=at - timedelta(days=FEEDBACK_SCORE_DAYS),
            created_at__lte=at,
        )
        .values("recipient")
        .annotate(
            positive=Count("pk", filter=Q(rating=TradeFeedback.Rating.POSITIVE)),
            neutral=Count("pk", filter=Q(rating=TradeFeedback.Rating.NEUTRAL)),
            negative=Count("pk", filter=Q(rating=TradeFeedback.Rating.NEGATIVE)),
        )
        .order_by()
    )
    scores = {user_id: FeedbackScore() for user_id in user_ids}
    for row in rows:
        scores[row["recipient"]] = FeedbackScore(row["positive"], row["neutral"], row["negative"])
    return scores


def feedback_received_list(*, user, limit: int = 20) -> QuerySet[TradeFeedback]:
    """Public: the latest feedback someone received, withdrawn feedback marked as such."""
    return TradeFeedback.objects.filter(recipient=user).select_related("author", "order")[:limit]


def feedback_direction_for(*, order: Order, user) -> str | None:
    if order.buyer_id == getattr(user, "pk", None):
        return TradeFeedback.Direction.BUYER_TO_SELLER
    if order.seller_id == getattr(user, "pk", None):
        return TradeFeedback.Direction.SELLER_TO_BUYER
    return None


def feedback_open_for(order: Order) -> bool:
    """Feedback opens once the order was delivered or a case on it is over."""
    if order.status == Order.Status.DELIVERED or order.delivered_at is not None:
        return True
    return order.cases.filter(state__in=CASE_OVER_STATES).exists()


def feedback_given(*, order: Order, user) -> TradeFeedback | None:
    direction = feedback_direction_for(order=order, user=user)
    if direction is None:
        return None
    return TradeFeedback.objects.filter(order=order, direction=direction).first()


# Seller performance


@dataclass(frozen=True)
class SellerPerformance:
    """A seller's record over the trailing window; rates are percents (None without a base)."""

    window_days: int
    orders: int
    cases: int
    answers_due: int
    answered_on_time: int
    decided_against: int
    average_answer_time: timedelta | None
    thresholds: dict

    @property
    def dispute_rate(self) -> Decimal | None:
        return _percent(self.cases, self.orders)

    @property
    def on_time_rate(self) -> Decimal | None:
        return _percent(self.answered_on_time, self.answers_due)

    @property
    def decided_against_rate(self) -> Decimal | None:
        return _percent(self.decided_against, self.cases)

    @property
    def risks(self) -> list[str]:
        """What puts the seller at risk: a rate at or past its threshold."""
        found = []
        if self.dispute_rate is not None and self.dispute_rate >= self.thresholds["dispute_rate"]:
            found.append("dispute rate")
        if self.on_time_rate is not None and self.on_time_rate < self.thresholds["on_time"]:
            found.append("on-time answers")
        if self.decided_against_rate is not None and self.decided_against_rate >= self.thresholds["decided_against"]:
            found.append("cases decided against the seller")
        return found

    @property
    def average_answer_time_hours(self) -> Decimal | None:
        if self.average_answer_time is None:
            return None
        return (Decimal(self.average_answer_time.total_seconds()) / 3600).quantize(Decimal("0.1"))

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01"))


DECIDED_BY_PLATFORM = Decision.objects.values("case")


def seller_performance(*, seller_ids, at: datetime, policy: Policy | None = None) -> dict[int, SellerPerformance]:
    """Each seller's performance over the policy's trailing window ending at `at`: two queries.

    Window: orders placed and cases filed in (at - window, at]. Answers due: cases whose answer
    deadline passed by `at` or that were answered. Decided against: the platform decided (by rule,
    agent or appeal) and the final outcome is not "no action"."""
    policy = policy or feedback_policy(at=at)
    seller_ids = list(seller_ids)
    start = at - timedelta(days=policy.performance_window_days)
    orders = dict(
        Order.objects.filter(seller__in=seller_ids, placed_at__gt=start, placed_at__lte=at)
        .values("seller")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("seller", "n")
    )
    answered = Q(seller_answered_at__isnull=False)
    rows = (
        Case.objects.filter(seller__in=seller_ids, filed_at__gt=start, filed_at__lte=at)
        .values("seller")
        .annotate(
            cases=Count("pk"),
            answers_due=Count("pk", filter=answered | Q(seller_answer_due_at__lte=at)),
            answered_on_time=Count("pk", filter=answered & Q(seller_answered_at__lte=F("seller_answer_due_at"))),
            decided_against=Count(
                "pk",
                filter=Q(pk__in=DECIDED_BY_PLATFORM) & ~Q(outcome__in=["", Outcome.NO_ACTION]),
            ),
            average_answer_time=Avg(
                ExpressionWrapper(F("seller_answered_at") - F("filed_at"), output_field=DurationField()),
                filter=answered,
            ),
        )
        .order_by()
    )
    by_seller = {row["seller"]: row for row in rows}
    thresholds = {
        "dispute_rate": Decimal(policy.risk_dispute_rate_percent),
        "on_time": Decimal(policy.risk_on_time_answer_percent),
        "decided_against": Decimal(policy.risk_decided_against_percent),
    }
    result = {}
    for seller_id in seller_ids:
        row = by_seller.get(seller_id, {})
        result[seller_id] = SellerPerformance(
            window_days=policy.performance_window_days,
            orders=orders.get(seller_id, 0),
            cases=row.get("cases", 0),
            answers_due=row.get("answers_due", 0),
            answered_on_time=row.get("answered_on_time", 0),
            decided_against=row.get("decided_against", 0),
            average_answer_time=row.get("average_answer_time"),
            thresholds=thresholds,
        )
    return result
