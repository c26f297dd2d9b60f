"""How a case ends: offers and proposals, binding decisions, and the refunds they owe."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from disputes.models.choices import Outcome
from disputes.models.orders import MONEY, Currency

# The case is named rather than imported: its guards ask about its offers, so cases.py imports this.


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

    case = models.ForeignKey("disputes.Case", on_delete=models.CASCADE, related_name="offers")
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

    case = models.ForeignKey("disputes.Case", on_delete=models.CASCADE, related_name="decisions")
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

    case = models.ForeignKey("disputes.Case", on_delete=models.PROTECT, related_name="refunds")
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
