"""`manage.py process_deadlines` also deletes the case viewers that socket servers which died left
behind (no server renews them): after `CaseViewer.FORGOTTEN_AFTER` without renewal. A row not renewed
for a shorter while is only hidden (`CaseViewer.EXPIRES_AFTER`): its server may be cut off from the
database for a moment and renew it again."""

from datetime import timedelta

from disputes.models import CaseViewer
from tests.disputes.automation.conftest import MONDAY, SECOND


def viewer(case, agent, tab: str, *, seen_at) -> CaseViewer:
    return CaseViewer.objects.create(
        case=case, agent=agent, channel_name=tab, connected_at=seen_at - timedelta(hours=2), seen_at=seen_at
    )


def test_process_deadlines_deletes_the_viewers_no_server_renewed_and_keeps_the_others(
    clock, deadlines, open_case, agent, senior
):
    viewer(open_case, agent, "killed-server!agent", seen_at=MONDAY - CaseViewer.FORGOTTEN_AFTER - SECOND)
    viewer(open_case, senior, "killed-server!senior", seen_at=MONDAY - timedelta(days=3))
    viewer(open_case, agent, "cut-off-server!agent", seen_at=MONDAY - CaseViewer.FORGOTTEN_AFTER + SECOND)
    viewer(open_case, senior, "live-server!senior", seen_at=MONDAY - timedelta(seconds=30))

    run = deadlines()

    assert run.summary == "2 stale case viewers removed"
    assert sorted(CaseViewer.objects.values_list("channel_name", flat=True)) == [
        "cut-off-server!agent",
        "live-server!senior",
    ]
    assert deadlines().summary == "nothing due"
