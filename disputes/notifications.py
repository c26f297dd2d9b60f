"""Tell the parties what happened on their cases: an in-app notice and an email each.

Runs from `case_event`, that is after the change committed. Internal notes tell no party. A chat
tells each party once until they look: while a notice of new messages on a case is unread, the
next messages on it add no notice and send no email (the case page marks its notices read).
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.dispatch import receiver

from disputes.events import CaseEvent, case_event
from disputes.models import Case, Notification
from disputes.selectors.people import notices_changed, with_unread_notice

logger = logging.getLogger(__name__)

# What each event says to the people it concerns. `{actor}` is who did it.
EVENT_TEXT = {
    "filed": "{actor} opened case {reference} about “{item}”.",
    "make_offer": "{actor} made an offer on case {reference}.",
    "decline_claim": "{actor} declined the claim on case {reference}.",
    "accept_claim": "{actor} accepted the claim on case {reference}.",
    "accept_offer": "{actor} accepted the offer on case {reference}.",
    "decline_offer": "{actor} declined the offer on case {reference}.",
    "escalate": "{actor} asked us to step in on case {reference}.",
    "escalate_unanswered": "Case {reference} went to our team: the seller did not answer in time.",
    "withdraw": "{actor} withdrew case {reference}.",
    "claim": "An agent is now handling case {reference}.",
    "proposed": "Our agent proposed an outcome on case {reference}.",
    "proposal_accepted": "{actor} accepted the proposal on case {reference}.",
    "proposal_rejected": "{actor} rejected the proposal on case {reference}.",
    "adopt_proposal": "Both sides accepted the proposal on case {reference}.",
    "decide": "Our agent decided case {reference}.",
    "return_shipped": "{actor} sent the item back on case {reference}.",
    "confirm_return": "{actor} confirmed the return arrived on case {reference}.",
    "lapse_return": "The return window on case {reference} has passed.",
    "appeal": "{actor} appealed the outcome of case {reference}.",
    "decide_appeal": "The appeal on case {reference} was decided.",
    "close": "Case {reference} is closed.",
    "resolve_automatically": "Case {reference} was resolved by rule: the seller did not answer in time.",
    "close_inactive": "Case {reference} was closed: the buyer did not answer in time.",
    "evidence_requested": "Our team asked for more evidence on case {reference}: see the case for what and by when.",
    "message_posted": "{actor} wrote on case {reference}.",
    "evidence_added": "{actor} added evidence to case {reference}.",
    "reassigned": "Case {reference} has a new agent.",
}

# Events told once until read: a lively chat would otherwise send an email a message.
TOLD_ONCE_UNTIL_READ = {"message_posted"}


@receiver(case_event, dispatch_uid="disputes.notify_parties")
def notify_parties(sender, event: CaseEvent, **kwargs) -> None:
    batch = _batch.get()
    if batch is not None and event.name != "reminder":
        batch.append(event)  # written with the rest of the batch (`notices_batched`)
        return
    if event.name == "reminder":
        _remind(event)
        return
    if event.name not in EVENT_TEXT:
        return
    told = _told_already(event) if event.name in TOLD_ONCE_UNTIL_READ else set()
    recipients = _party_recipients(event)
    if recipients and recipients <= told:
        return  # everyone it concerns has an unread notice of it: the case need not even be read
    case = Case.objects.select_related("buyer", "seller", "order").get(pk=event.case_id)
    notices = [notice for notice in _party_notices(event, case) if notice.recipient.pk not in told]
    # One statement and one commit however many parties (chat posts many); a lone notice needs no
    # transaction around it, which `bulk_create` would open.
    if len(notices) == 1:
        notices[0].save()
    else:
        Notification.objects.bulk_create(notices)
        notices_changed(notice.recipient.pk for notice in notices)
    for notice in notices:
        _email(notice.recipient, case, notice.text)


def _told_already(event: CaseEvent) -> set[int]:
    """Whom of those it concerns an unread notice of this kind of event on its case tells already."""
    return with_unread_notice(user_ids=_party_recipients(event), case_id=event.case_id, event=event.name)


def _party_recipients(event: CaseEvent) -> set[int]:
    """The parties an event's notice goes to: both, but not the one who did it."""
    return {pk for pk in (event.buyer_id, event.seller_id) if pk is not None and pk != event.actor_id}


REMINDER_TEXT = {
    "seller_answer": "Reminder: please answer case {reference} by {due}.",
    "buyer_answer": "Reminder: the seller is waiting for your answer on case {reference} until {due}.",
    "return_shipping": "Reminder: send the item back for case {reference} by {due}.",
    "return_confirm": "Reminder: confirm the returned item arrived on case {reference} by {due}, or we refund.",
    "agent_decision": "Reminder: case {reference} is due for a decision by {due}.",
    "evidence": "Reminder: we asked you for evidence on case {reference} by {due}.",
}


def _remind(event: CaseEvent) -> None:
    case = Case.objects.select_related("order").get(pk=event.case_id)
    recipient = get_user_model().objects.get(pk=event.data["recipient_id"])
    due = datetime.fromisoformat(event.data["due_at"])
    text = REMINDER_TEXT[event.data["kind"]].format(reference=case.reference, due=f"{due:%d %b %Y %H:%M} UTC")
    Notification.objects.create(recipient=recipient, case=case, event="reminder", text=text, created_at=event.at)
    _email(recipient, case, text)


def _display_name(actor_id: int | None, case: Case) -> str:
    """The parties are loaded with the case; anyone else is shown as the team, so never read."""
    if actor_id is None:
        return "Someone"
    if actor_id == case.buyer_id:
        return f"The buyer ({case.buyer.get_full_name() or case.buyer.username})"
    if actor_id == case.seller_id:
        return f"The seller ({case.seller.get_full_name() or case.seller.username})"
    return "Our team"


def _email(recipient, case: Case, text: str) -> None:
    if not recipient.email:
        return
    link = f"{settings.SITE_URL}{case.get_absolute_url()}"
    try:
        send_mail(
            subject=f"[{case.reference}] {text}",
            message=f"{text}\n\nSee the case: {link}\n\nYou get this email because you are a party to this case.",
            from_email=None,
            recipient_list=[recipient.email],
        )
    except Exception:  # the in-app notice is the record; a mail outage must not lose it
        logger.exception("Could not email %s about %s", recipient.pk, case.reference)


# Many events at once (`process_deadlines`): the case events of a batch, else None.
_batch: ContextVar[list[CaseEvent] | None] = ContextVar("notice_batch", default=None)


@contextmanager
def notices_batched():
    """Within the block, the parties' notices of case events wait, and are written together when it
    ends: one read of the cases and one insert for them all, then the emails. For a run of many
    automatic steps, each committed on its own; a notice waits at most until the block ends."""
    events: list[CaseEvent] = []
    token = _batch.set(events)
    try:
        yield
    finally:
        _batch.reset(token)
        _notify_all(events)


def _notify_all(events: list[CaseEvent]) -> None:
    if not events:
        return
    try:
        cases = Case.objects.select_related("buyer", "seller", "order").in_bulk({event.case_id for event in events})
        notices = [
            notice
            for event in events
            if event.case_id in cases
            for notice in _party_notices(event, cases[event.case_id])
        ]
        Notification.objects.bulk_create(notices)
        notices_changed(notice.recipient.pk for notice in notices)
    except Exception:  # as for one event: logged, and each event is tried on its own
        logger.exception("Could not write the notices of %s events at once; writing them one by one", len(events))
        for event in events:
            try:
                notify_parties(sender=CaseEvent, event=event)
            except Exception:
                logger.exception("Could not notify the parties of %s on %s", event.name, event.reference)
        return
    for notice in notices:
        _email(notice.recipient, notice.case, notice.text)


def _party_notices(event: CaseEvent, case: Case) -> list[Notification]:
    """What `notify_parties` writes for one event, unsaved."""
    template = EVENT_TEXT.get(event.name)
    if template is None:
        return []
    text = template.format(
        actor=_display_name(event.actor_id, case), reference=case.reference, item=case.order.item_title
    )
    return [
        Notification(recipient=person, case=case, event=event.name, text=text, created_at=event.at)
        for person in (case.buyer, case.seller)
        if person.pk != event.actor_id
    ]
