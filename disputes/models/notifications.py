"""Telling people: in-app notices, and reminders before a case's deadlines."""

from django.conf import settings
from django.db import models

from disputes.models.cases import Case


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
