"""What feedback does when a case changes (after commit, from `disputes.events.case_event`)."""

from django.dispatch import receiver

from disputes.events import CaseEvent, case_event
from disputes.models import Case
from feedback.services import trade_feedback_sync_withdrawal

PLATFORM_DECISIONS = {"decide", "decide_appeal"}


@receiver(case_event, dispatch_uid="feedback.on_case_event")
def on_case_event(sender, event: CaseEvent, **kwargs) -> None:
    if event.name in PLATFORM_DECISIONS:
        case = Case.objects.get(pk=event.case_id)
        trade_feedback_sync_withdrawal(case=case)
