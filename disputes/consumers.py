"""WebSocket transport for a case's room and the agents' queue. Rules live in the services.

Frames are JSON objects with a `type`. Close codes: 4401 not signed in, 4403 not allowed,
4404 no such case, 4000 the session ended.
"""

import asyncio
import json
import logging
import time
from contextlib import suppress
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from redis.exceptions import RedisError

from disputes import selectors, socket_work
from disputes.exceptions import DisputeError
from disputes.permissions import is_agent, is_agent_user, is_case_party
from disputes.presenters import case_status
from disputes.ratelimits import RateLimited
from disputes.realtime import case_agents_group, case_group, queue_group, user_group
from disputes.services.presence import viewer_join, viewer_leave
from disputes.socket_work import on_message_threads, viewer_renewals

NOT_SIGNED_IN, NOT_ALLOWED, NOT_FOUND, SESSION_ENDED = 4401, 4403, 4404, 4000
TRY_AGAIN_LATER = 1013
CLOSED_ABNORMALLY = 1006  # what a server reports for a client gone without a closing handshake
MAX_FRAME_BYTES = 16 * 1024
MAX_MESSAGE_ID = 2**63 - 1  # the largest id the database holds
MESSAGES_PER_WINDOW, WINDOW_SECONDS = 5, 10
ROLE_TRUSTED_SECONDS = 5  # how long a socket acts on the role it last read; a role change ends it at once
logger = logging.getLogger(__name__)


class _DeskConsumer(AsyncWebsocketConsumer):
    # Class defaults, so an idle socket stores only what differs from them.
    joined = False
    role_read_at = float("-inf")

    async def __call__(self, scope, receive, send):
        # The channel layer (Redis) or the database going away must end a socket with a close the
        # client retries on (1013 Try Again Later), not a dropped connection or a failed handshake.
        accepted = False
        client_left = None

        async def tracking_send(message):
            nonlocal accepted, client_left
            accepted = accepted or message["type"] == "websocket.accept"
            try:
                await send(message)
            except OSError as error:  # ASGI 2.4: the client has gone (uvicorn's ClientDisconnected)
                client_left = error
                raise

        try:
            await super().__call__(scope, receive, tracking_send)
        except (RedisError, OSError, OperationalError, InterfaceError) as error:
            if error is client_left:
                # Not a failure: what the client sent was handled (a message posted is stored); only
                # the reply found no one. Leave as on any disconnect, which the server will not send now.
                logger.debug("A socket's client left before a frame reached it (%r)", error)
                await self._leave_anyway(CLOSED_ABNORMALLY)
                return
            logger.warning("Closing a socket: the channel layer or the database failed (%r)", error)
            with suppress(Exception):  # the client may be gone already
                if not accepted:
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            await self._leave_anyway(TRY_AGAIN_LATER)

    async def _leave_anyway(self, code: int) -> None:
        """Leave as on a close (the groups; an agent, the case's viewers): the server will not call
        `disconnect` for this socket now. What failed may fail again: then it is logged, and an
        agent's viewer row, no longer renewed, stops being shown by itself (`CaseViewer`)."""
        try:
            await self.disconnect(code)
        except (RedisError, OSError, OperationalError, InterfaceError) as failure:
            logger.warning("A socket could not leave cleanly: the channel layer or the database failed (%r)", failure)

    async def dispatch(self, message):
        # Channels (4.2+) closes stale database connections on the worker's shared sync thread
        # before every frame and every group event, so each delivery would queue behind whatever
        # that thread is doing. Every database call here goes through `database_sync_to_async`,
        # which closes stale connections around itself on the thread it runs on.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def subscriptions(self) -> list[str]:
        """The groups this socket belongs in, worked out again when needed rather than kept."""
        return []

    async def join(self) -> None:
        self.joined = True  # before adding: a failure halfway still leaves what was added
        for group in self.subscriptions():
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code):
        if self.joined:
            for group in self.subscriptions():
                await self.channel_layer.group_discard(group, self.channel_name)

    def role_is_trusted(self) -> bool:
        return time.monotonic() - self.role_read_at < ROLE_TRUSTED_SECONDS

    async def user_role_changed(self, event):
        """This person's account, groups or permissions changed: read them again before acting."""
        self.role_read_at = float("-inf")

    async def send_json(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload))

    async def error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    async def refuse(self, code: int) -> None:
        # Accept first: a close before the handshake completes reaches a browser as HTTP 403
        # (close code 1006), and the client could not tell "sign in" from "no such case".
        await self.accept()
        await self.close(code=code)

    async def session_ended(self, event):
        await self.close(code=SESSION_ENDED)


class CaseConsumer(_DeskConsumer):
    """`/ws/cases/<reference>/?after=<id>`: the chat and live updates of one case."""

    is_agent = False
    sent_at: tuple[float, ...] = ()  # when this socket's recent messages were sent
    answering: asyncio.Future | None = None  # the client's latest frame, answered after those before it
    failed = False  # answering a frame failed (the database or the channel layer): the socket is closing

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:  # however the socket ended, this server no longer vouches for its viewer row
            viewer_renewals.discard(getattr(self, "channel_name", None))

    async def connect(self):
        self.user = self.scope["user"]
        if not self.user.is_authenticated:
            await self.refuse(NOT_SIGNED_IN)
            return
        try:  # the same scoping as the pages: a case that is not yours does not exist
            self.case = await database_sync_to_async(selectors.case_get)(
                user=self.user, reference=self.scope["url_route"]["kwargs"]["reference"]
            )
        except Http404:
            await self.refuse(NOT_FOUND)
            return
        # An agent who is the buyer or the seller of this case is a party here: no notes, no presence.
        self.is_agent = await database_sync_to_async(is_agent)(self.case, self.user)
        self.role_read_at = time.monotonic()
        self.case = socket_work.room_of(self.case)
        await self.join()
        await self.accept()
        if self.is_agent:
            await database_sync_to_async(viewer_join)(case=self.case, agent=self.user, channel_name=self.channel_name)
            viewer_renewals.add(self.channel_name)
            await self._announce_viewers()
        await self._send_after(_after_id(self.scope.get("query_string", b"")))

    def subscriptions(self) -> list[str]:
        groups = [case_group(self.case.pk), user_group(self.user.pk)]
        return [*groups, case_agents_group(self.case.pk)] if self.is_agent else groups

    async def disconnect(self, code):
        if self.answering is not None and not self.failed:
            await asyncio.wait([self.answering])  # a message sent before the close is stored first
        if self.is_agent:
            viewer_renewals.discard(self.channel_name)
            await database_sync_to_async(viewer_leave)(channel_name=self.channel_name)
            await self._announce_viewers()
        await super().disconnect(code)

    async def receive(self, text_data=None, bytes_data=None):
        # A message waits for the database, and meanwhile this socket goes on delivering its room's
        # messages, which would otherwise queue behind it. What the client sends is still answered
        # one frame after another, in the order sent.
        previous = self.answering
        self.answering = asyncio.ensure_future(self._answer_after(previous, text_data))

    async def _answer_after(self, previous: asyncio.Future | None, text_data: str | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            await self._answer(text_data)
        except OSError as error:  # the client has gone: the server ends the socket as on any disconnect
            logger.debug("A socket's client left before its answer reached it (%r)", error)
        except (RedisError, OperationalError, InterfaceError) as error:
            logger.warning("Closing a socket: the channel layer or the database failed (%r)", error)
            self.failed = True
            with suppress(Exception):  # the client may be gone already
                await self.close(code=TRY_AGAIN_LATER)
            await self._leave_anyway(TRY_AGAIN_LATER)

    async def _answer(self, text_data: str | None) -> None:
        if text_data is None:
            await self.error("bad_frame", "Frames are JSON text, not binary.")
            return
        if len(text_data.encode(errors="replace")) > MAX_FRAME_BYTES:
            await self.error("too_large", f"Frames are limited to {MAX_FRAME_BYTES // 1024} KB of text.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.error("bad_json", "That frame is not JSON.")
            return
        if not isinstance(frame, dict):
            await self.error("bad_frame", "A frame is a JSON object with a type.")
            return
        kind = frame.get("type")
        if kind == "message.send":
            await self._post(frame)
        elif kind == "resync":
            await self._send_after(frame.get("after"))
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.error("unknown_type", "Known types: message.send, resync, ping.")

    async def _post(self, frame: dict) -> None:
        now = time.monotonic()
        recent = tuple(moment for moment in self.sent_at if now - moment < WINDOW_SECONDS)
        self.sent_at = recent
        if len(recent) >= MESSAGES_PER_WINDOW:
            await self.error("rate_limited", "You are sending messages too fast; wait a few seconds.")
            return
        body = frame.get("body")
        if not isinstance(body, str):
            await self.error("invalid", "A message needs a text body.")
            return
        self.sent_at = (*recent, now)
        internal = frame.get("internal") is True
        # A note is what an agent who lost the role must never write: it always reads the role
        # again, whether or not the news of the change has reached this socket yet.
        reread = internal or not self.role_is_trusted()
        try:
            user, message = await on_message_threads(socket_work.post_as_now)(
                self.case, self.user, body, internal=internal, reread=reread
            )
        except PermissionDenied as refusal:
            self.role_read_at = float("-inf")  # refused: read the role again before the next note
            await self.error("forbidden", str(refusal) or "You are not allowed to do that.")
        except RateLimited as refusal:  # the per-user limit every page, API call and socket shares
            await self.error("rate_limited", refusal.message)
        except DisputeError as refusal:
            await self.error("invalid", refusal.message)
        else:
            if reread:
                await self._trust(user)
            # The broadcast after commit brings it to everyone; this acknowledges the sender.
            await self.send_json({"type": "sent", "id": message.pk, "client_id": frame.get("client_id")})

    async def _send_after(self, after) -> None:
        if after is None or after == "":
            return
        try:
            after_id = int(after)
        except (TypeError, ValueError, OverflowError):  # Infinity and 1e400 are JSON numbers too
            after_id = -1
        if isinstance(after, bool) or not 0 <= after_id <= MAX_MESSAGE_ID:
            await self.error("invalid", "`after` is a message id.")
            return
        frames = await database_sync_to_async(socket_work.frames_after)(self.case, self.user, after_id)
        for frame in frames:
            await self.send_json(frame)

    async def _announce_viewers(self) -> None:
        names = await database_sync_to_async(selectors.case_viewer_names)(case=self.case)
        await self.channel_layer.group_send(
            case_agents_group(self.case.pk), {"type": "case.presence", "viewers": names}
        )

    # Group events

    async def case_message(self, event):
        if event["internal"] and not await self._still_agent():
            return
        await self.send(text_data=event["text"])

    async def case_changed(self, event):
        reread = not self.role_is_trusted()
        user, allowed = await on_message_threads(socket_work.still_allowed)(self.case.pk, self.user, reread=reread)
        if allowed is None:
            await self.close(code=NOT_ALLOWED)
            return
        if reread:
            await self._trust(user)
        status = case_status(allowed, user)
        await self.send_json(
            {"type": "case.changed", "event": event["event"], "state": allowed.state, "label": status.label}
        )

    async def case_presence(self, event):
        await self.send_json({"type": "presence", "viewers": event["viewers"]})

    async def user_role_changed(self, event):
        await super().user_role_changed(event)
        await self._still_agent()  # an agent who lost the role leaves the viewers now, not at the next note

    # The role this socket acts on

    async def _still_agent(self) -> bool:
        """Whether this socket may still hear internal notes, its role read again once it is no
        longer trusted (every few seconds at most, or at once after a role change)."""
        if self.is_agent and not self.role_is_trusted():
            await self._trust(await on_message_threads(socket_work.user_now)(self.user.pk))
        return self.is_agent

    async def _trust(self, user) -> None:
        """Act as `user` (None: no longer allowed) from now. The role an open socket hears as only
        narrows: an agent who lost it leaves the agents' group and the viewers, so hears no more
        notes or presence, and, unless a party, the room too (the case is no longer theirs to see);
        one who gained it hears as an agent from the next connection."""
        if user is not None:
            self.user, self.role_read_at = user, time.monotonic()
        else:  # nothing to trust: every post reads the account again, and is refused
            self.role_read_at = float("-inf")
        was_agent = self.is_agent
        self.is_agent = was_agent and user is not None and is_agent(self.case, user)
        if was_agent and not self.is_agent:
            await self.channel_layer.group_discard(case_agents_group(self.case.pk), self.channel_name)
            if not is_case_party(self.case, user):
                await self.channel_layer.group_discard(case_group(self.case.pk), self.channel_name)
            viewer_renewals.discard(self.channel_name)
            await database_sync_to_async(viewer_leave)(channel_name=self.channel_name)
            await self._announce_viewers()


class QueueConsumer(_DeskConsumer):
    """`/ws/console/queue/`: agents hear when the mediation queue changes."""

    async def connect(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.refuse(NOT_SIGNED_IN)
            return
        if not await database_sync_to_async(is_agent_user)(user):
            await self.refuse(NOT_ALLOWED)
            return
        self.user_id = user.pk
        await self.join()
        await self.accept()

    def subscriptions(self) -> list[str]:
        return [queue_group(), user_group(self.user_id)]

    async def receive(self, text_data=None, bytes_data=None):
        await self.error("read_only", "The queue feed only sends.")

    async def user_role_changed(self, event):
        if not is_agent_user(await on_message_threads(socket_work.user_now)(self.user_id)):
            await self.close(code=NOT_ALLOWED)

    async def queue_changed(self, event):
        await self.send_json({"type": "queue.changed", **{k: v for k, v in event.items() if k != "type"}})


def _after_id(query_string: bytes):
    values = parse_qs(query_string.decode(errors="ignore")).get("after")
    return values[0] if values else None
