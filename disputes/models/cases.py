"""The case: a buyer's dispute about one order, and the state machine that moves it."""

import re
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from disputes import permissions as perms
from disputes.clock import deadline_after
from disputes.models.choices import REFUND_OUTCOMES, Outcome, Reason, Remedy
from disputes.models.orders import MONEY, Currency, Order
from disputes.models.resolution import Offer


class Case(ConcurrentTransitionMixin, models.Model):
    """A buyer's dispute about one order, moved only by its transitions (see services)."""

    class State(models.TextChoices):
        OPEN = "open", "Waiting for the seller"
        AWAITING_BUYER = "awaiting_buyer", "Waiting for the buyer"
        ESCALATED = "escalated", "Waiting for an agent"
        IN_MEDIATION = "in_mediation", "In mediation"
        AWAITING_RETURN = "awaiting_return", "Waiting for the return"
        RESOLVED = "resolved", "Resolved"
        APPEALED = "appealed", "Under appeal"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    ACTIVE_STATES = [
        State.OPEN,
        State.AWAITING_BUYER,
        State.ESCALATED,
        State.IN_MEDIATION,
        State.AWAITING_RETURN,
    ]
    REFERENCE_PREFIX = "MS-"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="cases")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_as_buyer")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_as_seller")
    state = FSMField(max_length=20, choices=State.choices, default=State.OPEN, protected=True, db_index=True)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    requested_outcome = models.CharField(max_length=30, choices=Remedy.choices)
    amount_claimed = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    description = models.TextField()
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="cases_as_agent"
    )
    outcome = models.CharField(max_length=30, choices=Outcome.choices, blank=True)
    refund_amount = models.DecimalField(**MONEY, null=True, blank=True)
    policy_version = models.ForeignKey(
        "policies.HistoricalPolicy",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The dispute rules in force when the case was filed.",
    )

    seller_answer_due_at = models.DateTimeField()
    buyer_may_escalate_at = models.DateTimeField()
    agent_decision_due_at = models.DateTimeField(null=True, blank=True)
    return_due_at = models.DateTimeField(null=True, blank=True)
    appeal_until = models.DateTimeField(null=True, blank=True)

    buyer_answer_due_at = models.DateTimeField(null=True, blank=True)
    return_confirm_due_at = models.DateTimeField(null=True, blank=True)
    decision_overdue_at = models.DateTimeField(null=True, blank=True)
    raised_to_seniors_at = models.DateTimeField(null=True, blank=True)

    buyer_last_active_at = models.DateTimeField(null=True, blank=True)
    seller_answered_at = models.DateTimeField(null=True, blank=True)
    seller_declined_at = models.DateTimeField(null=True, blank=True)
    return_carrier = models.CharField(max_length=100, blank=True)
    return_tracking_number = models.CharField(max_length=100, blank=True)
    return_shipped_at = models.DateTimeField(null=True, blank=True)
    appealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    filed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-filed_at", "-pk"]
        permissions = [
            ("mediate_case", "Can mediate cases as a support agent"),
            ("decide_appeal", "Can decide appeals as a senior agent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_claimed__gt=0), name="case_amount_claimed_positive"),
            models.CheckConstraint(
                condition=Q(refund_amount__isnull=True) | Q(refund_amount__gte=0), name="case_refund_not_negative"
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(state__in=["open", "awaiting_buyer", "escalated", "in_mediation", "awaiting_return"]),
                name="case_one_active_per_order",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "agent_decision_due_at"]),
            # The console queue in its order, one page from wherever the cursor points.
            models.Index(
                fields=["agent_decision_due_at", "id"],
                condition=Q(state__in=["escalated", "in_mediation", "appealed"]),
                name="case_queue_order",
            ),
            # My cases, newest first; the API's lists by state, and changed since, newest first.
            models.Index(fields=["buyer", "-filed_at", "-id"], name="case_buyer_newest"),
            models.Index(fields=["state", "-id"], name="case_state_newest"),
            models.Index(fields=["updated_at"], name="case_updated_at"),
            # The seller's resolution center, by the answer's due date.
            models.Index(fields=["seller", "seller_answer_due_at", "id"], name="case_seller_answer_order"),
        ]

    def __str__(self):
        return self.reference

    @property
    def state_fields(self):
        # ConcurrentTransitionMixin's own looks among all ~35 fields for each case loaded.
        return (self._meta.get_field("state"),)

    def get_absolute_url(self):
        return reverse("disputes:case-detail", kwargs={"reference": self.reference})

    @property
    def reference(self) -> str:
        return f"{self.REFERENCE_PREFIX}{self.pk:06d}" if self.pk else ""

    @classmethod
    def pk_from_reference(cls, reference: str) -> int | None:
        match = re.fullmatch(rf"{cls.REFERENCE_PREFIX}(\d{{1,18}})", reference.strip().upper())
        return int(match.group(1)) if match else None

    @property
    def rules(self):
        """The pinned dispute rules (a policy history row: the same fields as `Policy`)."""
        return self.policy_version

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def is_finished(self) -> bool:
        """Closed or withdrawn: the case takes no more messages or evidence from the parties."""
        return self.state in (self.State.CLOSED, self.State.WITHDRAWN)

    def pending_offer(self) -> "Offer | None":
        return self.offers.filter(status=Offer.Status.PENDING).order_by("-pk").first()

    # Conditions: pure guards on the case itself.

    def _buyer_may_escalate(self) -> bool:
        return self.seller_declined_at is not None or timezone.now() >= self.buyer_may_escalate_at

    def _seller_answer_overdue(self) -> bool:
        return self.seller_answered_at is None and timezone.now() > self.seller_answer_due_at

    def _has_pending_seller_offer(self) -> bool:
        offer = self.pending_offer()
        return offer is not None and offer.made_by_role == Offer.Role.SELLER

    def _has_agreed_proposal(self) -> bool:
        offer = self.pending_offer()
        return offer is not None and offer.made_by_role == Offer.Role.AGENT and offer.is_agreed_by_both

    def _may_appeal(self) -> bool:
        return self.appealed_by_id is None and self.appeal_until is not None and timezone.now() <= self.appeal_until

    def _no_evidence_outstanding(self) -> bool:
        return not self.evidence_requests.filter(fulfilled_at__isnull=True, due_at__gte=timezone.now()).exists()

    def _return_overdue(self) -> bool:
        """Sent back and not confirmed in time, or never sent back within the window."""
        if self.return_shipped_at is not None:
            return self.return_confirm_due_at is not None and timezone.now() > self.return_confirm_due_at
        return self.return_due_at is not None and timezone.now() > self.return_due_at

    def _buyer_silent(self) -> bool:
        """It is the buyer's move and they let the answer window or the inactivity window pass.

        The inactivity window runs from the buyer's last activity or from when the move became
        theirs (the seller's pending offer or refusal), whichever is later: quiet time while the
        seller had the move does not count against the buyer."""
        now = timezone.now()
        if self.buyer_answer_due_at is not None and now > self.buyer_answer_due_at:
            return True
        offer = self.pending_offer()
        moments = [self.buyer_last_active_at, self.filed_at, self.seller_declined_at, offer and offer.created_at]
        last_seen = max(moment for moment in moments if moment is not None)
        return now > deadline_after(last_seen, self.rules, days=self.rules.buyer_inactivity_days)

    def _appeal_window_passed(self) -> bool:
        return self.appeal_until is None or timezone.now() > self.appeal_until

    # Transition bodies change this instance only; services lock, save, and announce.

    def _settle(self, *, outcome: str, refund_amount: Decimal | None, at: datetime) -> str:
        self.outcome = outcome
        self.refund_amount = refund_amount if outcome in REFUND_OUTCOMES else None
        if outcome == Outcome.RETURN_AND_REFUND:
            self.return_due_at = deadline_after(at, self.rules, days=self.rules.return_shipping_days)
            return self.State.AWAITING_RETURN
        return self._resolve(at=at)

    def _resolve(self, *, at: datetime) -> str:
        self.resolved_at = at
        self.appeal_until = deadline_after(at, self.rules, days=self.rules.appeal_window_days)
        return self.State.RESOLVED

    @transition(
        field=state,
        source=[State.OPEN, State.AWAITING_BUYER],
        target=State.AWAITING_BUYER,
        permission=perms.is_case_seller,
        custom={"label": "Make an offer"},
    )
    def make_offer(self, *, at: datetime):
        """The seller proposes a remedy; a newer offer replaces a pending one."""
        self.seller_answered_at = self.seller_answered_at or at
        self._start_buyer_clock(at=at)

    def _start_buyer_clock(self, *, at: datetime):
        self.buyer_answer_due_at = deadline_after(at, self.rules, hours=self.rules.offer_response_hours)

    @transition(
        field=state,
        source=State.OPEN,
        target=State.AWAITING_BUYER,
        permission=perms.is_case_seller,
        custom={"label": "Decline the claim"},
    )
    def decline_claim(self, *, at: datetime):
        self.seller_answered_at = self.seller_answered_at or at
        self.seller_declined_at = at
        self._start_buyer_clock(at=at)

    @transition(
        field=state,
        source=[State.OPEN, State.AWAITING_BUYER],
        target=RETURN_VALUE(State.RESOLVED, State.AWAITING_RETURN),
        permission=perms.is_case_seller,
        custom={"label": "Accept the claim"},
    )
    def accept_claim(self, *, at: datetime):
        if self.requested_outcome == Remedy.RETURN_AND_REFUND:
            return self._settle(outcome=Outcome.RETURN_AND_REFUND, refund_amount=self.amount_claimed, at=at)
        if self.requested_outcome == Remedy.REPLACEMENT:
            return self._settle(outcome=Outcome.REPLACEMENT, refund_amount=None, at=at)
        outcome = Outcome.FULL_REFUND if self.amount_claimed >= self.order.amount else Outcome.PARTIAL_REFUND
        return self._settle(outcome=outcome, refund_amount=self.amount_claimed, at=at)

    @transition(
        field=state,
        source=State.AWAITING_BUYER,
        target=RETURN_VALUE(State.RESOLVED, State.AWAITING_RETURN),
        conditions=[_has_pending_seller_offer],
        permission=perms.is_case_buyer,
        custom={"label": "Accept the offer"},
    )
    def accept_offer(self, *, offer: "Offer", at: datetime):
        return self._settle(outcome=offer.kind, refund_amount=offer.amount, at=at)

    @transition(
        field=state,
        source=State.AWAITING_BUYER,
        target=State.OPEN,
        conditions=[_has_pending_seller_offer],
        permission=perms.is_case_buyer,
        custom={"label": "Decline the offer"},
    )
    def decline_offer(self, *, at: datetime):
        """Back to the seller, who may offer again; their answer deadline does not move."""
        self.buyer_answer_due_at = None

    @transition(
        field=state,
        source=[State.OPEN, State.AWAITING_BUYER],
        target=State.ESCALATED,
        conditions=[_buyer_may_escalate],
        permission=perms.is_case_buyer,
        custom={"label": "Ask the platform to step in"},
    )
    def escalate(self, *, at: datetime):
        self._start_platform_clock(at=at)

    @transition(
        field=state,
        source=State.OPEN,
        target=State.ESCALATED,
        conditions=[_seller_answer_overdue],
        permission=perms.is_system,
        custom={"label": "Escalate: seller did not answer in time"},
    )
    def escalate_unanswered(self, *, at: datetime):
        self._start_platform_clock(at=at)

    def _start_platform_clock(self, *, at: datetime):
        self.escalated_at = at
        self.buyer_answer_due_at = None
        self.agent_decision_due_at = deadline_after(at, self.rules, hours=self.rules.agent_decision_hours)

    @transition(
        field=state,
        source=[State.OPEN, State.AWAITING_BUYER, State.ESCALATED, State.IN_MEDIATION],
        target=State.WITHDRAWN,
        permission=perms.is_case_buyer,
        custom={"label": "Withdraw the case"},
    )
    def withdraw(self, *, at: datetime):
        self.closed_at = at

    @transition(
        field=state,
        source=State.ESCALATED,
        target=State.IN_MEDIATION,
        permission=perms.is_agent_or_system,
        custom={"label": "Claim for mediation"},
    )
    def claim(self, *, agent, at: datetime):
        """An agent takes the case, or the system assigns it to one (round robin)."""
        self.agent = agent

    @transition(
        field=state,
        source=State.IN_MEDIATION,
        target=RETURN_VALUE(State.RESOLVED, State.AWAITING_RETURN),
        conditions=[_has_agreed_proposal],
        permission=perms.is_case_party,
        custom={"label": "Agree to the agent's proposal"},
    )
    def adopt_proposal(self, *, offer: "Offer", at: datetime):
        return self._settle(outcome=offer.kind, refund_amount=offer.amount, at=at)

    @transition(
        field=state,
        source=State.IN_MEDIATION,
        target=RETURN_VALUE(State.RESOLVED, State.AWAITING_RETURN),
        conditions=[_no_evidence_outstanding],
        permission=perms.is_assigned_agent,
        custom={"label": "Decide"},
    )
    def decide(self, *, outcome: str, refund_amount: Decimal | None, at: datetime):
        return self._settle(outcome=outcome, refund_amount=refund_amount, at=at)

    @transition(
        field=state,
        source=State.AWAITING_RETURN,
        target=State.RESOLVED,
        permission=perms.is_case_seller,
        custom={"label": "Confirm the return arrived"},
    )
    def confirm_return(self, *, at: datetime):
        return self._resolve(at=at)

    @transition(
        field=state,
        source=State.AWAITING_RETURN,
        target=State.RESOLVED,
        conditions=[_return_overdue],
        permission=perms.is_system,
        custom={"label": "Resolve: return window passed"},
    )
    def lapse_return(self, *, at: datetime):
        """The seller did not confirm a return in time (refunded), or it was never sent (nothing owed)."""
        if not self.return_shipped_at:
            self.outcome = Outcome.NO_ACTION
            self.refund_amount = None
        return self._resolve(at=at)

    @transition(
        field=state,
        source=State.OPEN,
        target=State.RESOLVED,
        conditions=[_seller_answer_overdue],
        permission=perms.is_system,
        custom={"label": "Resolve by rule: seller did not answer"},
    )
    def resolve_automatically(self, *, outcome: str, refund_amount: Decimal | None, at: datetime):
        """A policy rule settles a common case; the decision names the rule and stays appealable."""
        return self._settle(outcome=outcome, refund_amount=refund_amount, at=at)

    @transition(
        field=state,
        source=State.AWAITING_BUYER,
        target=State.CLOSED,
        conditions=[_buyer_silent],
        permission=perms.is_system,
        custom={"label": "Close: the buyer did not answer"},
    )
    def close_inactive(self, *, at: datetime):
        self.buyer_answer_due_at = None
        self.closed_at = at

    @transition(
        field=state,
        source=State.RESOLVED,
        target=State.APPEALED,
        conditions=[_may_appeal],
        permission=perms.is_case_party,
        custom={"label": "Appeal the outcome"},
    )
    def appeal(self, *, appellant, at: datetime):
        """The appeal waits in the queue for a senior agent, on the agents' decision clock."""
        self.appealed_by = appellant
        self.agent = None
        self.decision_overdue_at = self.raised_to_seniors_at = None
        self.agent_decision_due_at = deadline_after(at, self.rules, hours=self.rules.agent_decision_hours)

    @transition(
        field=state,
        source=State.APPEALED,
        target=State.CLOSED,
        permission=perms.is_assigned_senior_agent,
        custom={"label": "Decide the appeal"},
    )
    def decide_appeal(self, *, outcome: str, refund_amount: Decimal | None, at: datetime):
        self.outcome = outcome
        self.refund_amount = refund_amount if outcome in REFUND_OUTCOMES else None
        self.closed_at = at

    @transition(
        field=state,
        source=State.RESOLVED,
        target=State.CLOSED,
        conditions=[_appeal_window_passed],
        permission=perms.is_system,
        custom={"label": "Close: appeal window passed"},
    )
    def close(self, *, at: datetime):
        self.closed_at = at
