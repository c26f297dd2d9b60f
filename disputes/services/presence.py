"""Which agents have a case open right now (one row per open socket, renewed while it is open)."""

from datetime import datetime

from django.utils import timezone

from disputes.models import Case, CaseViewer


def viewer_join(*, case: Case, agent, channel_name: str) -> None:
    now = timezone.now()
    CaseViewer.objects.update_or_create(
        channel_name=channel_name, defaults={"case": case, "agent": agent, "connected_at": now, "seen_at": now}
    )


def viewer_leave(*, channel_name: str) -> None:
    CaseViewer.objects.filter(channel_name=channel_name).delete()


def viewers_renew(*, channel_names: list[str]) -> int:
    """Mark these sockets' rows as seen now, in one statement; returns how many rows there were.
    A row already deleted (its agent left) stays deleted."""
    if not channel_names:
        return 0
    return CaseViewer.objects.filter(channel_name__in=channel_names).update(seen_at=timezone.now())


def viewers_sweep(*, now: datetime | None = None) -> int:
    """Delete the rows no server has renewed for `CaseViewer.FORGOTTEN_AFTER` (their sockets died
    with their server); returns how many. Safe to run anywhere, any time."""
    cutoff = (now or timezone.now()) - CaseViewer.FORGOTTEN_AFTER
    deleted, _ = CaseViewer.objects.filter(seen_at__lt=cutoff).delete()
    return deleted
