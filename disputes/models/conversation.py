"""What is said and shown on a case: messages, evidence, and requests for evidence."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from disputes.models.cases import Case


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
