"""What a socket server runs beside its consumers: their database work, the threads it goes to,
and the renewal of its agents' viewer rows."""

import asyncio
import contextvars
import logging
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied
from django.db import close_old_connections

from disputes import selectors
from disputes.backends import PERMISSIONS, cached_person, person_topic
from disputes.cached import reading_ahead
from disputes.models import Case, CaseViewer
from disputes.permissions import can_view_case, is_agent_user
from disputes.realtime import message_frame, sends_handed_to
from disputes.services.conversation import message_post
from disputes.services.presence import viewers_renew

logger = logging.getLogger(__name__)

# Messages are written on threads of the sockets' own, not on the worker's one shared sync thread
# (`database_sync_to_async`'s default), so a message does not wait behind a socket opening or a
# viewer's renewal; rows a message touches are locked by the service. Two: a post waiting on its
# case's lock (an upload holds it while it stores the files) leaves the other thread to the other
# rooms, and more threads only compete with the event loop for Python's lock (in alternating runs of
# `bench/chat.py`, four threads' p99 was ~1.7x two's). Each thread holds at most one database
# connection, closed before and after every call as CONN_MAX_AGE says.
_message_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="desk-messages")


class _OnMessageThreads(SyncToAsync):
    """`database_sync_to_async` on `_message_threads`, closing stale connections around each call
    itself: Channels' test communicator switches `database_sync_to_async`'s closing off, and
    these threads' connections must not outlive a test any more than a request."""

    def thread_handler(self, loop, *args, **kwargs):
        close_old_connections()
        try:
            with sends_handed_to(loop):
                return super().thread_handler(loop, *args, **kwargs)
        finally:
            close_old_connections()


def on_message_threads(func):
    return _OnMessageThreads(func, thread_sensitive=False, executor=_message_threads)


class ViewerRenewals:
    """This process's open agent sockets on case rooms, whose viewer rows it renews together: one
    task and one UPDATE every `CaseViewer.RENEW_EVERY` for all of them, so an agent's socket costs
    an entry in a set, not a task or a write of its own. The task runs while there are any."""

    def __init__(self):
        self.channel_names: set[str] = set()
        self.task: asyncio.Task | None = None

    def add(self, channel_name: str) -> None:
        self.channel_names.add(channel_name)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            # A context of its own: the task serves every socket, not the one that started it.
            self.task = loop.create_task(self._renew_while_any(), context=contextvars.Context())

    def discard(self, channel_name: str | None) -> None:
        self.channel_names.discard(channel_name)

    async def _renew_while_any(self) -> None:
        while self.channel_names:
            await asyncio.sleep(CaseViewer.RENEW_EVERY.total_seconds())
            try:
                await database_sync_to_async(viewers_renew)(channel_names=list(self.channel_names))
            except Exception as failure:  # noqa: BLE001 - the next round tries again; every agent here relies on it
                logger.warning("Could not renew the case viewers of this server's agent sockets (%r)", failure)


viewer_renewals = ViewerRenewals()


# The sockets' database work: each runs on a database thread, never on the event loop.


def room_of(case: Case) -> Case:
    """What a socket keeps of its case: its id and sides, enough for the groups and the frames.
    Every rule is checked by the services on the row they read and lock; the rest is not kept by
    each of the thousands of idle sockets."""
    fields = ["id", "buyer_id", "seller_id", "state"]
    return Case.from_db(case._state.db, fields, [getattr(case, name) for name in fields])


def user_now(user_id: int):
    """The person as they are now, with their permissions read; None once they cannot sign in.

    Read as every page reads its person (`disputes.backends`): the row and the permissions from the
    cache in one round trip, forgotten there whenever either changes. A socket that has not posted
    for a few seconds asks this before its next message, so the database is not asked each time."""
    with reading_ahead([(person_topic(user_id), ""), (PERMISSIONS, str(user_id))]):
        user = cached_person(user_id)
        if user is None or not user.is_active:
            return None
        is_agent_user(user)  # reads the permissions here, on the database thread
    return user


def post_as_now(case, user, body: str, *, internal: bool, reread: bool):
    """Post as the user is now, not as they were when the socket opened (`reread`, once the
    socket's role is no longer trusted): permissions cached on the socket's user would let an
    agent who lost the role go on writing notes."""
    current = user_now(user.pk) if reread else user
    if current is None:
        raise PermissionDenied("Your account can no longer write here.")
    return current, message_post(case=case, author=current, body=body, internal=internal)


def frames_after(case, user, after_id: int) -> list[dict]:
    messages = selectors.message_list_after(case=case, user=user, after_id=after_id)
    return [message_frame(message, case) for message in messages]


def still_allowed(case_id, user, *, reread: bool):
    """The person (read again if `reread`) and the case if they may still see it, else None."""
    if reread:
        user = user_now(user.pk)
        if user is None:
            return None, None
    case = selectors.case_list(user=user).filter(pk=case_id).first()
    return user, (case if case is not None and can_view_case(user, case) else None)
