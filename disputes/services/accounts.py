"""A person's own settings and notifications."""

import zoneinfo
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.utils import timezone

from disputes.exceptions import AlreadySubmitted, InvalidInput
from disputes.models import FormSubmission, Notification, Profile
from disputes.selectors.people import notices_changed


def profile_update(*, user, time_zone: str) -> Profile:
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise InvalidInput("Choose a time zone from the list.", errors={"time_zone": ["Unknown time zone."]})
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    return profile


def notifications_mark_read(*, user, notification_id: int | None = None, case=None) -> int:
    """Mark one of the user's notifications read, those about one case, or all of them; returns
    how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    if case is not None:
        unread = unread.filter(case=case)
    marked = unread.update(read_at=timezone.now())
    if marked:
        notices_changed([user.pk])
    return marked


@contextmanager
def submission_once(*, user, token):
    """Spend a form's one-time token in the same transaction as the write it carries.

    A second submission of the same form raises `AlreadySubmitted`; if the write fails, the
    token is not spent and the form can be sent again.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                FormSubmission.objects.create(token=token, user=user)
        except IntegrityError:
            raise AlreadySubmitted("That was already sent.") from None
        yield
