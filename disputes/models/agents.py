"""The agents' desk: canned replies, who takes assignments, and who is looking at a case."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from disputes.models.cases import Case


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
    """An agent's open socket on a case's room, so others see who else is working on it.

    The socket's server renews `seen_at` every `RENEW_EVERY` while the socket is open. A server
    that dies (a deploy, a crash) leaves its rows behind un-renewed: past `EXPIRES_AFTER` they
    are no longer shown, and past `FORGOTTEN_AFTER` the periodic job deletes them. The longer
    wait before deleting lets a server that lost the database for a while show its agents again
    once its renewals get through."""

    RENEW_EVERY = timedelta(seconds=60)
    EXPIRES_AFTER = 3 * RENEW_EVERY  # two renewals may be late or fail before an agent drops off
    FORGOTTEN_AFTER = timedelta(hours=1)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField()  # viewers are listed in the order they opened the case
    seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.agent} on {self.case.reference}"
