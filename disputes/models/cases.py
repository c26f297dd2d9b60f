import re
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from disputes import permissions as perms
from disputes.clock import deadline_after

MONEY = {"max_digits": 12, "decimal_places": 2}


class Currency(models.TextChoices):
    EUR = "EUR", "Euro"
    USD = "USD", "US dollar"
    GBP = "GBP", "Pound sterling"


class Order(models.Model):
    """An order mirrored from the marketplace; the desk never sells anything itself."""

    class Status(models.TextChoices):
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    external_id = models.CharField(max_length=64, unique=True)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales")
    item_title = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.EUR)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PAID)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    placed_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
            models.CheckConstraint(condition=~Q(buyer=models.F("seller")), name="order_buyer_is_not_seller"),
        ]

    def __str__(self):
        return f"{self.external_id}: {self.item_title}"

    @property
    def filing_window_starts_at(self) -> datetime:
        """The window to open a case runs from delivery, else dispatch, else purchase."""
        return self.delivered_at or self.shipped_at or self.placed_at


class Reason(models.TextChoices):
    NOT_RECEIVED = "not_received", "Item not received"
    NOT_AS_DESCRIBED = "not_as_described", "Item not as described"
    DAMAGED = "damaged", "Item arrived damaged"
    WRONG_ITEM = "wrong_item", "Wrong item sent"
    CHANGE_OF_MIND = "change_of_mind", "Return: changed my mind"
    BILLING = "billing", "Billing problem"
    OTHER = "other", "Something else"


class Remedy(models.TextChoices):
    """What a buyer asks for, and what a seller or agent offers."""

    FULL_REFUND = "full_refund", "Full refund"
    PARTIAL_REFUND = "partial_refund", "Partial refund"
    RETURN_AND_REFUND = "return_and_refund", "Return and refund"
    REPLACEMENT = "replacement", "Replacement"


class Outcome(models.TextChoices):
    FULL_REFUND = "full_refund", "Full refund"
    PARTIAL_REFUND = "partial_refund", "Partial refund"
    RETURN_AND_REFUND = "return_and_refund", "Return and refund"
    REPLACEMENT = "replacement", "Replacement"
    NO_ACTION = "no_action", "No action (seller upheld)"


REFUND_OUTCOMES = {Outcome.FULL_REFUND, Outcome.PARTIAL_REFUND, Outcome.RETURN_AND_REFUND}


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


class Offer(models.Model):
    """A remedy put to the buyer by the seller, or to both parties by the agent."""

    class Role(models.TextChoices):
        SELLER = "seller", "Seller"
        AGENT = "agent", "Agent"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        SUPERSEDED = "superseded", "Replaced by a newer offer"
        LAPSED = "lapsed", "No longer open"

    class Answer(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="offers")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_by_role = models.CharField(max_length=10, choices=Role.choices)
    kind = models.CharField(max_length=30, choices=Outcome.choices)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    note = models.TextField(blank=True)
    return_address = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    buyer_answer = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    seller_answer = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="offer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(kind__in=["full_refund", "partial_refund", "return_and_refund"]) | Q(amount__isnull=False),
                name="offer_refund_has_amount",
            ),
            models.UniqueConstraint(fields=["case"], condition=Q(status="pending"), name="offer_one_pending_per_case"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} offer on {self.case.reference}"

    @property
    def is_agreed_by_both(self) -> bool:
        return self.buyer_answer == self.Answer.ACCEPTED and self.seller_answer == self.Answer.ACCEPTED


class Decision(models.Model):
    """A binding outcome set by an agent (mediation) or a senior agent (appeal)."""

    class Stage(models.TextChoices):
        AUTOMATIC = "automatic", "Automatic"
        MEDIATION = "mediation", "Mediation"
        APPEAL = "appeal", "Appeal"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="decisions")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    rationale = models.TextField()
    rule = models.CharField(max_length=50, blank=True, help_text="The policy rule behind an automatic decision.")
    facts = models.JSONField(default=dict, blank=True, help_text="What the rule saw when it fired.")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "stage"], name="decision_one_per_stage"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="decision_amount_positive"),
        ]

    def __str__(self):
        return f"{self.get_stage_display()} decision on {self.case.reference}: {self.get_outcome_display()}"


class RefundInstruction(models.Model):
    """An instruction to the marketplace's payment side, recorded once per outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    idempotency_key = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=200, blank=True, help_text="What the payment side answered.")

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self):
        return f"Refund {self.amount} {self.currency} on {self.case.reference}"


class Message(models.Model):
    """A message on a case. Internal notes are for agents only and never reach a party."""

    MAX_LENGTH = 5000

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=MAX_LENGTH)
    is_internal = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="message_body_not_empty")]
        indexes = [models.Index(fields=["case", "id"])]

    def __str__(self):
        return f"Message {self.pk} on {self.case.reference}"


def evidence_path(instance: "Evidence", filename: str) -> str:
    """A random name: nothing the uploader chose reaches the file system."""
    return f"evidence/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class Evidence(models.Model):
    """A photo or document a party added to a case; served only to its parties and agents."""

    class Kind(models.TextChoices):
        JPEG = "image/jpeg", "JPEG image"
        PNG = "image/png", "PNG image"
        WEBP = "image/webp", "WebP image"
        PDF = "application/pdf", "PDF document"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50, choices=Kind.choices)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "evidence"

    def __str__(self):
        return f"{self.original_name} on {self.case.reference}"

    def get_absolute_url(self):
        return reverse("disputes:evidence-file", kwargs={"reference": self.case.reference, "pk": self.pk})

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Notification(models.Model):
    """An in-app notice of something that happened on one of the user's cases."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+", null=True, blank=True)
    event = models.CharField(max_length=50)
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.text


class Profile(models.Model):
    """Per-person settings; a person's role on a case comes from the case, never from here."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: use the browser's zone.")

    def __str__(self):
        return f"Settings of {self.user}"


class FormSubmission(models.Model):
    """A form's one-time token, spent in the same transaction as the write it carried."""

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return str(self.token)


class CannedReply(models.Model):
    """A reply agents start from. Placeholders: {buyer_name}, {seller_name}, {reference},
    {item}, {deadline}, {agent_name}."""

    PLACEHOLDERS = ["buyer_name", "seller_name", "reference", "item", "deadline", "agent_name"]

    title = models.CharField(max_length=100, unique=True)
    body = models.TextField()
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self):
        return self.title


class EvidenceRequest(models.Model):
    """An agent asks one party for evidence by a date; past it, the agent may decide without."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence_requests")
    requested_from = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField()
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    missed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Evidence requested on {self.case.reference}"

    @property
    def is_outstanding(self) -> bool:
        return self.fulfilled_at is None and timezone.now() <= self.due_at


class AgentStatus(models.Model):
    """Whether an agent takes automatic assignments, and when they last got one (round robin)."""

    agent = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_status")
    is_available = models.BooleanField(default=False)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "agent statuses"

    def __str__(self):
        return f"{self.agent} ({'available' if self.is_available else 'away'})"


class CaseViewer(models.Model):
    """An agent's open socket on a case's room, so others see who else is working on it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField()

    def __str__(self):
        return f"{self.agent} on {self.case.reference}"


class Reminder(models.Model):
    """A reminder sent before one deadline of a case: one per deadline, never twice."""

    class Kind(models.TextChoices):
        SELLER_ANSWER = "seller_answer", "Seller's answer"
        BUYER_ANSWER = "buyer_answer", "Buyer's answer"
        RETURN_SHIPPING = "return_shipping", "Sending the return"
        RETURN_CONFIRM = "return_confirm", "Confirming the return"
        AGENT_DECISION = "agent_decision", "Agent's decision"
        EVIDENCE = "evidence", "Requested evidence"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    due_at = models.DateTimeField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "due_at", "recipient"], name="reminder_once_per_deadline")
        ]

    def __str__(self):
        return f"Reminder: {self.get_kind_display()} on {self.case.reference}"


# The REST API: requests sent again under one Idempotency-Key, and outbound webhooks.


class IdempotencyKey(models.Model):
    """A write the API answered, by the client's `Idempotency-Key`: the same key and body get
    the same answer again. Stored in the same transaction as the write, so a key exists only
    with its effect; a refused request stores none and may be sent again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    # Empty only inside the transaction that answers the request; nobody else ever sees that.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self):
        return f"{self.key} ({self.user})"


def webhook_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL of the marketplace that hears about cases; every body is signed with its secret."""

    class Event(models.TextChoices):
        CASE_FILED = "case.filed", "A case was filed"
        CASE_STATE_CHANGED = "case.state_changed", "A case changed state"
        CASE_RESOLVED_WITH_REFUND = "case.resolved_with_refund", "A case was resolved with a refund"

    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=200,
        default=webhook_secret,
        help_text="Bodies are signed with HMAC-SHA256 under this secret (header X-Desk-Signature: sha256=<hex>).",
    )
    events = models.JSONField(default=list, blank=True, help_text="The event types sent to this URL.")
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        # The marketplace integration's own permission lives with its endpoints.
        permissions = [("sync_orders", "Can push orders and read every case through the API (marketplace)")]

    def __str__(self):
        return self.url

    def wants(self, event: str) -> bool:
        return self.is_active and event in (self.events or [])


class WebhookDelivery(models.Model):
    """One event sent to one endpoint: attempted after commit, retried with backoff until it
    succeeds once (or the attempts run out), then never again."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Failed, will retry"
        DELIVERED = "delivered", "Delivered"
        GAVE_UP = "gave_up", "Failed, given up"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50, choices=WebhookEndpoint.Event.choices)
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event} to {self.endpoint}"
