from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class SurveyResponse(models.Model):
    """How a party rated the handling of a case once it ended: one answer per party per case."""

    case = models.ForeignKey("disputes.Case", on_delete=models.CASCADE, related_name="survey_responses")
    respondent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "respondent"], name="survey_one_answer_per_party"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="survey_score_1_to_5"),
        ]

    def __str__(self):
        return f"{self.score}/5 on {self.case.reference} by {self.respondent}"


class TradeFeedback(models.Model):
    """What one side of an order says about the other (as on eBay): once per order per direction.

    Editable by its author until `editable_until`; every change is kept in the history. Feedback
    the platform withdrew (the buyer's negative one on an order decided for the seller) stays,
    marked `withdrawn_at`, and no longer counts in the score.
    """

    class Direction(models.TextChoices):
        BUYER_TO_SELLER = "buyer_to_seller", "Buyer rates the seller"
        SELLER_TO_BUYER = "seller_to_buyer", "Seller rates the buyer"

    class Rating(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"

    order = models.ForeignKey("disputes.Order", on_delete=models.CASCADE, related_name="trade_feedback")
    direction = models.CharField(max_length=20, choices=Direction.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_received")
    rating = models.CharField(max_length=10, choices=Rating.choices)
    comment = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    editable_until = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "direction"], name="feedback_one_per_order_direction"),
            models.CheckConstraint(
                condition=Q(rating__in=["positive", "neutral", "negative"]), name="feedback_rating_known"
            ),
        ]
        indexes = [models.Index(fields=["recipient", "created_at"])]

    def __str__(self):
        return f"{self.get_rating_display()} for {self.recipient} on order {self.order_id}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class SurveyInvitation(models.Model):
    """The survey email sent to one party about one ended case: sent once, by a batch."""

    case = models.ForeignKey("disputes.Case", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "recipient"], name="survey_invited_once")]

    def __str__(self):
        return f"Survey invitation for {self.case_id} to {self.recipient_id}"
