"""Live updates over the channel layer, fired after commit from `case_live`.

The database is the record and the socket only a fast path: every message frame carries its
id, and a client that missed something asks for everything after the last id it saw.
Internal notes go to the agents' group of a case only, never to the room the parties share.
"""

import asyncio
import json
import logging
import threading
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from disputes.events import CaseEvent, case_live
from disputes.models import Case, Message
from marketplace_support.channel_layer import PubSubChannelLayer

logger = logging.getLogger(__name__)
User = get_user_model()

QUEUE_STATES = {Case.State.ESCALATED, Case.State.IN_MEDIATION, Case.State.APPEALED}


def case_group(case_id: int) -> str:
    """Everyone in a case's room: its buyer, its seller and the agents who have it open."""
    return f"case-{case_id}"


def case_agents_group(case_id: int) -> str:
    """Only the agents in a case's room: internal notes and presence."""
    return f"case-{case_id}-agents"


def queue_group() -> str:
    return "console-queue"


def user_group(user_id: int) -> str:
    """Every socket of one person, so signing out can close them all."""
    return f"user-{user_id}"


def message_frame(message: Message, sides: Case | CaseEvent) -> dict:
    """A message as the sockets get it; `sides`: its case, or an event of it (both know the buyer
    and the seller)."""
    author = message.author
    if author.pk == sides.buyer_id:
        side = "buyer"
    elif author.pk == sides.seller_id:
        side = "seller"
    else:
        side = "agent"
    name = author.get_full_name() or author.username
    return {
        "type": "message",
        "id": message.pk,
        "author": name if side != "agent" else f"Support team · {author.first_name or name}",
        "side": side,
        "body": message.body,
        "internal": message.is_internal,
        "created_at": message.created_at.isoformat(),
    }


def send_to_group(group: str, payload: dict) -> None:
    """Best effort: a channel layer outage must not undo or block a committed change."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = getattr(_handing_over, "loop", None)
    try:
        if loop is not None:
            _hand_over(loop, layer.group_send(group, payload), group, payload)
        elif isinstance(layer, PubSubChannelLayer):
            layer.group_send_blocking(group, payload)
        else:
            async_to_sync(layer.group_send)(group, payload)  # the in-memory layer: one process
    except Exception:  # the layer, or the loop gone (the server stopping)
        logger.exception("Could not broadcast %s to %s", payload.get("type"), group)


_handing_over = threading.local()


@contextmanager
def sends_handed_to(loop: asyncio.AbstractEventLoop):
    """Within it, this thread's broadcasts go to `loop` (a socket server's) without waiting there.

    A socket's post runs on a thread of its own while the loop serves every socket of the process:
    waiting for the loop to get round to each send held the thread ~20 ms a message under load, so
    posts queued for a thread. The loop starts them in the order they were handed over."""
    _handing_over.loop = loop
    try:
        yield
    finally:
        _handing_over.loop = None


def _hand_over(loop, sending, group: str, payload: dict) -> None:
    try:
        future = asyncio.run_coroutine_threadsafe(sending, loop)
    except RuntimeError:
        sending.close()  # never to run: no "never awaited" warning
        raise
    future.add_done_callback(lambda done: _failed(done, group, payload))


def _failed(sending, group: str, payload: dict) -> None:
    if not sending.cancelled() and sending.exception() is not None:
        logger.error("Could not broadcast %s to %s", payload.get("type"), group, exc_info=sending.exception())


@receiver(case_live, dispatch_uid="disputes.broadcast_case_event")
def broadcast_case_event(sender, event: CaseEvent, **kwargs) -> None:
    """Runs after commit: a failure here (the database or the channel layer gone) is logged, never
    turned into an error answer for a change that is already stored. Clients resync by id."""
    try:
        _broadcast(event)
    except Exception:
        logger.exception("Could not broadcast %s on case %s", event.name, event.case_id)


def _broadcast(event: CaseEvent) -> None:
    if event.name == "reminder":
        return  # a nudge to one person, nothing changed on the case
    if event.name in ("message_posted", "note_added"):
        message = event.data["message"]  # as posted, with its neighbours' ids (`message_post`)
        frame = {
            **message_frame(message, event),
            "previous_id": message.previous_id,
            "previous_public_id": message.previous_public_id,
        }
        group = case_agents_group(event.case_id) if message.is_internal else case_group(event.case_id)
        # Encoded once here, not by each of the sockets that pass it on.
        send_to_group(group, {"type": "case.message", "internal": message.is_internal, "text": json.dumps(frame)})
        return
    send_to_group(case_group(event.case_id), {"type": "case.changed", "event": event.name, "state": event.to_state})
    if event.to_state in QUEUE_STATES or event.from_state in QUEUE_STATES or event.name == "reassigned":
        send_to_group(
            queue_group(),
            {"type": "queue.changed", "reference": event.reference, "state": event.to_state, "event": event.name},
        )


@receiver(user_logged_out, dispatch_uid="disputes.close_sockets_on_sign_out")
def close_sockets_on_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        send_to_group(user_group(user.pk), {"type": "session.ended"})


# A socket keeps the role it read for a few seconds (see `consumers`); these tell a person's open
# sockets at once when their account, groups or permissions change, so a demoted agent stops
# writing and hearing internal notes now, not when the socket next re-reads. Sent after commit:
# a socket that re-read before it would keep the old role.


def tell_role_changed(user_ids) -> None:
    user_ids = list(user_ids)
    if user_ids:
        transaction.on_commit(
            lambda: [send_to_group(user_group(pk), {"type": "user.role_changed"}) for pk in user_ids], robust=True
        )


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="disputes.role_changed_groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="disputes.role_changed_permissions")
def user_groups_or_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        # user.groups.add(group) names the user; group.user_set.add(user) names the users.
        tell_role_changed((pk_set or ()) if reverse else [instance.pk])


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="disputes.role_changed_group_permissions")
def group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        groups = (pk_set or ()) if reverse else [instance.pk]
        tell_role_changed(User.objects.filter(groups__in=groups).values_list("pk", flat=True).distinct())


@receiver(post_save, sender=User, dispatch_uid="disputes.role_changed_account")
def user_account_changed(sender, instance, created, update_fields=None, **kwargs) -> None:
    # Signing in saves `last_login` alone: not a change of what the person may do.
    if not created and (update_fields is None or {"is_active", "is_superuser"} & set(update_fields)):
        tell_role_changed([instance.pk])
