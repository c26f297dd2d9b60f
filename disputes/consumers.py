"""WebSocket transport for a case's room and the agents' queue. Rules live in the services.

Frames are JSON objects with a `type`. Close codes: 4401 not signed in, 4403 not allowed,
4404 no such case, 4000 the session ended.
"""

import json
import logging
import time
from contextlib import suppress
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from redis.exceptions import RedisError

from disputes import selectors
from disputes.exceptions import DisputeError
from disputes.permissions import can_view_case, is_agent, is_agent_user
from disputes.presenters import case_status
from disputes.ratelimits import RateLimited
from disputes.realtime import case_agents_group, case_group, message_frame, queue_group, user_group
from disputes.services.conversation import message_post
from disputes.services.presence import viewer_join, viewer_leave

NOT_SIGNED_IN, NOT_ALLOWED, NOT_FOUND, SESSION_ENDED = 4401, 4403, 4404, 4000
TRY_AGAIN_LATER = 1013
MAX_FRAME_BYTES = 16 * 1024
MAX_MESSAGE_ID = 2**63 - 1  # the largest id the database holds
MESSAGES_PER_WINDOW, WINDOW_SECONDS = 5, 10
logger = logging.getLogger(__name__)


class _DeskConsumer(AsyncWebsocketConsumer):
    groups_joined: list[str]

    async def __call__(self, scope, receive, send):
        # The channel layer (Redis) or the database going away must end a socket with a close the
        # client retries on (1013 Try Again Later), not a dropped connection or a failed handshake.
        accepted = False

        async def tracking_send(message):
            nonlocal accepted
            accepted = accepted or message["type"] == "websocket.accept"
            await send(message)

        try:
            await super().__call__(scope, receive, tracking_send)
        except (RedisError, OSError, OperationalError, InterfaceError) as error:
            logger.warning("Closing a socket: the channel layer or the database failed (%r)", error)
            with suppress(Exception):  # the client may be gone already
                if not accepted:
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})

    async def join(self, *groups: str) -> None:
        self.groups_joined = getattr(self, "groups_joined", [])
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

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
        self.sent_at: list[float] = []
        await self.join(case_group(self.case.pk), user_group(self.user.pk))
        if self.is_agent:
            await self.join(case_agents_group(self.case.pk))
        await self.accept()
        if self.is_agent:
            await database_sync_to_async(viewer_join)(case=self.case, agent=self.user, channel_name=self.channel_name)
            await self._announce_viewers()
        await self._send_after(_after_id(self.scope.get("query_string", b"")))

    async def disconnect(self, code):
        if getattr(self, "is_agent", False):
            await database_sync_to_async(viewer_leave)(channel_name=self.channel_name)
            await self._announce_viewers()
        await super().disconnect(code)

    async def receive(self, text_data=None, bytes_data=None):
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
        self.sent_at = [moment for moment in self.sent_at if now - moment < WINDOW_SECONDS]
        if len(self.sent_at) >= MESSAGES_PER_WINDOW:
            await self.error("rate_limited", "You are sending messages too fast; wait a few seconds.")
            return
        body = frame.get("body")
        if not isinstance(body, str):
            await self.error("invalid", "A message needs a text body.")
            return
        self.sent_at.append(now)
        try:
            message = await database_sync_to_async(_post_as_now)(
                self.case, self.user, body, internal=frame.get("internal") is True
            )
        except PermissionDenied as refusal:
            await self.error("forbidden", str(refusal) or "You are not allowed to do that.")
        except RateLimited as refusal:  # the per-user limit every page, API call and socket shares
            await self.error("rate_limited", refusal.message)
        except DisputeError as refusal:
            await self.error("invalid", refusal.message)
        else:
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
        frames = await database_sync_to_async(_frames_after)(self.case, self.user, after_id)
        for frame in frames:
            await self.send_json(frame)

    async def _announce_viewers(self) -> None:
        names = await database_sync_to_async(selectors.case_viewer_names)(case=self.case)
        await self.channel_layer.group_send(case_agents_group(self.case.pk), {"type": "case.presence", "viewers": names})

    # Group events

    async def case_message(self, event):
        await self.send_json(event["frame"])

    async def case_changed(self, event):
        allowed = await database_sync_to_async(_still_allowed)(self.case.pk, self.user)
        if allowed is None:
            await self.close(code=NOT_ALLOWED)
            return
        self.case = allowed
        status = case_status(allowed, self.user)
        await self.send_json(
            {"type": "case.changed", "event": event["event"], "state": allowed.state, "label": status.label}
        )

    async def case_presence(self, event):
        await self.send_json({"type": "presence", "viewers": event["viewers"]})


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
        await self.join(queue_group(), user_group(user.pk))
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        await self.error("read_only", "The queue feed only sends.")

    async def queue_changed(self, event):
        await self.send_json({"type": "queue.changed", **{k: v for k, v in event.items() if k != "type"}})


def _after_id(query_string: bytes):
    values = parse_qs(query_string.decode(errors="ignore")).get("after")
    return values[0] if values else None


def _post_as_now(case, user, body: str, *, internal: bool):
    """Post as the user is now, not as they were when the socket opened: the permissions cached on
    the socket's user would let an agent who lost the role go on writing notes."""
    current = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    if current is None:
        raise PermissionDenied("Your account can no longer write here.")
    return message_post(case=case, author=current, body=body, internal=internal)


def _frames_after(case, user, after_id: int) -> list[dict]:
    return [message_frame(message, case) for message in selectors.message_list_after(case=case, user=user, after_id=after_id)]


def _still_allowed(case_id, user):
    case = selectors.case_list(user=user).filter(pk=case_id).first()
    return case if case is not None and can_view_case(user, case) else None
