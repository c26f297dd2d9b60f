"""The marketplace's side: requests the REST API answered once per Idempotency-Key, and webhooks."""

from django.conf import settings
from django.db import models

from disputes.models.cases import Case


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
