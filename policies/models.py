from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords


def parse_holidays(text: str) -> set[date]:
    """One ISO date per line; blank lines and anything after `#` are ignored."""
    days = set()
    for line in (text or "").splitlines():
        value = line.split("#", 1)[0].strip()
        if value:
            days.add(date.fromisoformat(value))
    return days


class Policy(models.Model):
    """A marketplace policy: public text and, for disputes, the rules cases are held to.

    Every save is a new version in the history; a case pins the version in force when it
    was filed (`disputes.Case.policy_version`), so later edits never move its deadlines.
    """

    class Kind(models.TextChoices):
        DISPUTES = "disputes", "Disputes"
        RETURNS = "returns", "Returns"
        REFUNDS = "refunds", "Refunds"
        CONDUCT = "conduct", "Conduct"

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    body = models.TextField(help_text="Public text. Blank lines separate paragraphs.")
    is_published = models.BooleanField("published", default=False)
    effective_from = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)

    # Dispute rules (used when kind is "disputes").
    filing_window_days = models.PositiveIntegerField(
        default=30, help_text="Days after delivery (or dispatch, or purchase) a buyer may open a case."
    )
    seller_answer_hours = models.PositiveIntegerField(
        default=72, validators=[MinValueValidator(1)], help_text="Hours the seller has to answer a new case."
    )
    buyer_wait_hours = models.PositiveIntegerField(
        default=72, help_text="Hours the buyer waits before asking the platform to step in."
    )
    agent_decision_hours = models.PositiveIntegerField(
        default=48, validators=[MinValueValidator(1)], help_text="Target hours for an agent to decide."
    )
    return_shipping_days = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1)], help_text="Days the buyer has to send a return back."
    )
    appeal_window_days = models.PositiveIntegerField(
        default=7, help_text="Days after a resolution during which a party may appeal once."
    )
    count_business_days = models.BooleanField(
        "count business days only",
        default=False,
        help_text="Deadlines count only weekdays that are not holidays (the filing window stays in calendar days).",
    )
    holidays = models.TextField(blank=True, help_text="Holidays that do not count, one date per line (YYYY-MM-DD).")
    offer_response_hours = models.PositiveIntegerField(
        default=120,
        validators=[MinValueValidator(1)],
        help_text="Hours the buyer has to answer a seller's answer (an offer or a refusal) before the case closes.",
    )
    buyer_inactivity_days = models.PositiveIntegerField(
        default=14,
        validators=[MinValueValidator(1)],
        help_text="Days without any activity from the buyer, while it is their move, before the case closes.",
    )
    return_confirm_days = models.PositiveIntegerField(
        default=3,
        validators=[MinValueValidator(1)],
        help_text="Days the seller has, after the buyer sent the item back, to confirm it arrived; then we refund.",
    )
    senior_escalation_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1)],
        help_text="Hours after a missed decision target before a case is raised to senior agents.",
    )
    reminder_hours = models.PositiveIntegerField(
        default=24, help_text="Hours before a deadline that the person it concerns is reminded (0: no reminders)."
    )
    auto_resolve_limit = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Amount up to which common cases resolve automatically (0 turns it off).",
    )
    auto_rule_not_received = models.BooleanField(
        "rule: refund an unanswered non-delivery",
        default=True,
        help_text="Item not received, no delivery scan, the seller silent past the deadline, the claim within the "
        "limit: refund in full.",
    )
    auto_rule_seller_silent = models.BooleanField(
        "rule: refund any unanswered claim",
        default=False,
        help_text="Any reason, the seller silent past the deadline, the claim within the limit: refund the claim.",
    )

    # Feedback and seller performance.
    feedback_edit_days = models.PositiveIntegerField(
        default=7, help_text="Days during which trade feedback can still be changed by its author."
    )
    performance_window_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1)], help_text="Trailing days over which seller performance is measured."
    )
    risk_dispute_rate_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        help_text="A seller whose dispute rate (cases / orders) reaches this share is at risk.",
    )
    risk_on_time_answer_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("90.00"),
        help_text="A seller who answers fewer cases on time than this share is at risk.",
    )
    risk_decided_against_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
        help_text="A seller with this share of their cases decided against them by the platform is at risk.",
    )

    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["kind", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(auto_resolve_limit__gte=0), name="policy_auto_resolve_limit_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.title} (v{self.version})"

    def clean(self):
        try:
            parse_holidays(self.holidays)
        except ValueError:
            raise ValidationError({"holidays": "Write one date per line as YYYY-MM-DD."}) from None

    def get_absolute_url(self):
        return reverse("policies:detail", kwargs={"slug": self.slug})
