"""Facts about one person that their every page shows, kept in the cache until they change.

The header's count of unread notices is on every page, and the console shows whether an agent
takes assignments: a query each, every request, for facts that change a few times a day. Each is
cached under a topic of its own (`disputes.cached`) and forgotten by whatever writes it: a saved or
deleted row says so itself; writes in bulk, which send no signal, call `notices_changed`.
"""

from collections.abc import Iterable

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from disputes.cached import forget, reading_ahead, remembered
from disputes.models import AgentStatus, Notification

KEPT_SECONDS = 600  # the longest a write that forgot to say so could leave a fact stale


def unread_notification_count(*, user) -> int:
    return remembered(
        _notices(user.pk),
        "",
        lambda: Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
        seconds=KEPT_SECONDS,
    )


def agent_is_available(*, user) -> bool:
    return remembered(
        _availability(user.pk),
        "",
        lambda: AgentStatus.objects.filter(agent=user, is_available=True).exists(),
        seconds=KEPT_SECONDS,
    )


def has_unread_notice(*, user_id: int, case_id: int, event: str) -> bool:
    """Whether the person has an unread notice of `event` on the case: a lively chat asks on every
    message whether its reader was told already."""
    return remembered(
        _notices(user_id),
        _unread_notice_key(case_id, event),
        lambda: Notification.objects.filter(
            recipient_id=user_id, case_id=case_id, event=event, read_at__isnull=True
        ).exists(),
        seconds=KEPT_SECONDS,
    )


def with_unread_notice(*, user_ids: Iterable[int], case_id: int, event: str) -> set[int]:
    """Who of these people has an unread notice of `event` on the case, read for all of them in one
    cache round trip: a message by an agent asks it of both parties."""
    user_ids = set(user_ids)
    with reading_ahead((_notices(pk), _unread_notice_key(case_id, event)) for pk in user_ids):
        return {pk for pk in user_ids if has_unread_notice(user_id=pk, case_id=case_id, event=event)}


def _unread_notice_key(case_id: int, event: str) -> str:
    return f"{case_id}:{event}"


def person_facts(user_id) -> list[tuple[str, str]]:
    """The (topic, key) of the facts above every page asks for, to read them ahead together."""
    return [(_notices(user_id), ""), (_availability(user_id), "")]


def notices_changed(user_ids: Iterable[int]) -> None:
    """These people's notices were written or marked read in bulk."""
    for user_id in set(user_ids):
        forget(_notices(user_id))


def _notices(user_id: int) -> str:
    return f"notices:{user_id}"


def _availability(user_id: int) -> str:
    return f"availability:{user_id}"


@receiver(post_save, sender=Notification, dispatch_uid="disputes.people.notice_saved")
@receiver(post_delete, sender=Notification, dispatch_uid="disputes.people.notice_deleted")
def _notice_changed(sender, instance, **kwargs):
    forget(_notices(instance.recipient_id))


@receiver(post_save, sender=AgentStatus, dispatch_uid="disputes.people.availability_saved")
@receiver(post_delete, sender=AgentStatus, dispatch_uid="disputes.people.availability_deleted")
def _availability_changed(sender, instance, **kwargs):
    forget(_availability(instance.agent_id))
