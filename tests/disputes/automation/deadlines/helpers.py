"""What the process_deadlines tests share: the clock's landmarks, and changing the policy and
reading what a run left on a case (the policy itself, reminders off: conftest.py)."""

from datetime import UTC, datetime, timedelta

from disputes.models import Case, Notification
from policies.services import policy_save
from tests import factories

S = Case.State
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
FRIDAY = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
NEXT_MONDAY = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
NEXT_TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
RATIONALE = "No photos arrived by the date asked; disputes policy 4.2."


def edit_rules(policy, **rules):
    """A new version of the policy; cases filed from now on pin it."""
    for name, value in rules.items():
        setattr(policy, name, value)
    return policy_save(policy=policy, actor=None, reason="Rules changed for this test")


def another_case(buyer, seller, **fields) -> Case:
    return factories.case(order_=factories.order(buyer=buyer, seller=seller), **fields)


def notified(case: Case, event: str) -> dict:
    notes = Notification.objects.filter(case=case, event=event).select_related("recipient")
    return {note.recipient: note.text for note in notes}


def reasons(case: Case) -> list[str]:
    return list(case.history.order_by("history_id").values_list("history_change_reason", flat=True))
