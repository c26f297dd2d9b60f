"""A person's own settings, and the one-time tokens of the forms they send."""

from django.conf import settings
from django.db import models


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
