"""One way out for everything that happens to a case: `announce`, after commit.

Live updates subscribe to `case_live`, notifications, webhooks and the rest to `case_event`;
they never run for a change that was rolled back, and never before its history row exists. The
live update goes first: the people in the case's room are waiting on it, and the notices and
emails that follow would otherwise stand between a chat message and its readers.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.dispatch import Signal

case_live = Signal()  # receivers get `event: CaseEvent`; sent before `case_event`
case_event = Signal()  # receivers get `event: CaseEvent`


@dataclass(frozen=True)
class CaseEvent:
    name: str
    case_id: int
    reference: str
    actor_id: int | None
    from_state: str
    to_state: str
    at: datetime
    data: dict = field(default_factory=dict)
    # The case's sides, so a receiver knows whom it concerns without reading the case.
    buyer_id: int | None = None
    seller_id: int | None = None


def announce(event: CaseEvent) -> None:
    # Robust: the change is committed; a failing side effect (the database gone before the notice
    # is written) is logged, never answered as an error that would make the user send it again.
    transaction.on_commit(lambda: case_live.send(sender=CaseEvent, event=event), robust=True)
    transaction.on_commit(lambda: case_event.send(sender=CaseEvent, event=event), robust=True)
