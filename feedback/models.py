from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


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
