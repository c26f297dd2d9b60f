"""Which agents have a case open right now (one row per open socket)."""

from django.utils import timezone

from disputes.models import Case, CaseViewer


def viewer_join(*, case: Case, agent, channel_name: str) -> None:
    CaseViewer.objects.update_or_create(
        channel_name=channel_name, defaults={"case": case, "agent": agent, "connected_at": timezone.now()}
    )


def viewer_leave(*, channel_name: str) -> None:
    CaseViewer.objects.filter(channel_name=channel_name).delete()
