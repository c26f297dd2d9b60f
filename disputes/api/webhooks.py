"""Outbound webhooks: the marketplace hears about its cases at the URLs it registered.

Runs from `case_event`, that is after the change committed: a delivery is recorded for every
active endpoint that wants the event, then attempted at once. A failed attempt is retried by
`process_deadlines` with exponential backoff until one succeeds (then never again) or the
attempts run out. Each body is signed with HMAC-SHA256 under the endpoint's secret:

    X-Desk-Signature: sha256=<hex of HMAC-SHA256(secret, raw body)>

A receiver recomputes it over the raw body it got and compares in constant time. The payload's
`id` names the event, the same for every retry, so a receiver can drop one it already handled.
"""

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from disputes.events import CaseEvent, case_event
from disputes.models import Case, RefundInstruction, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

Event = WebhookEndpoint.Event
SIGNATURE_HEADER = "X-Desk-Signature"
# A delivery whose first attempt did not happen right after commit (the process died) is picked
# up by `process_deadlines` after this long.
FIRST_ATTEMPT_GRACE = timedelta(minutes=1)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body` under `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does with the header: recompute over the raw body, compare in constant time."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header)


def payload_body(payload: dict) -> bytes:
    """The exact bytes sent (and signed): the same payload always gives the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: base, 2×base, 4×base … up to the ceiling."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS))


# From case events to webhook events


def webhook_events_possible(event: CaseEvent) -> list[str]:
    """The webhook events a case event may make, known without reading the case."""
    if event.name == "filed":
        return [Event.CASE_FILED]
    if not event.from_state or event.from_state == event.to_state:
        return []
    if event.to_state == Case.State.RESOLVED or event.name == "decide_appeal":
        return [Event.CASE_STATE_CHANGED, Event.CASE_RESOLVED_WITH_REFUND]
    return [Event.CASE_STATE_CHANGED]


def webhook_events_for(event: CaseEvent, case: Case) -> list[str]:
    """Which webhook events a case event makes: filed; any change of state; a refund outcome."""
    possible = webhook_events_possible(event)
    if Event.CASE_STATE_CHANGED not in possible:
        return possible
    names = [Event.CASE_STATE_CHANGED]
    if Event.CASE_RESOLVED_WITH_REFUND not in possible:
        return names
    reached_refund = event.to_state == Case.State.RESOLVED and bool(case.refund_amount)
    appeal_refund = (
        event.name == "decide_appeal"
        and RefundInstruction.objects.filter(case=case, idempotency_key=f"{case.reference}-appeal").exists()
    )
    if reached_refund or appeal_refund:
        names.append(Event.CASE_RESOLVED_WITH_REFUND)
    return names


def webhook_payload(kind: str, event: CaseEvent, case: Case) -> dict:
    data = {
        "reference": case.reference,
        "url": f"{settings.SITE_URL}{reverse('api:case-detail', kwargs={'reference': case.reference})}",
        "action": event.name,
        "from_state": event.from_state or None,
        "state": event.to_state,
        "order": case.order.external_id,
        "buyer": case.buyer.username,
        "seller": case.seller.username,
        "reason": case.reason,
        "requested_outcome": case.requested_outcome,
        "amount_claimed": str(case.amount_claimed),
        "outcome": case.outcome or None,
        "refund_amount": str(case.refund_amount) if case.refund_amount is not None else None,
        "currency": case.currency,
    }
    if kind == Event.CASE_RESOLVED_WITH_REFUND:
        data["refunds"] = [
            {
                "idempotency_key": refund.idempotency_key,
                "amount": str(refund.amount),
                "currency": refund.currency,
                "status": refund.status,
            }
            for refund in case.refunds.order_by("created_at", "pk")
        ]
    return {"id": str(uuid.uuid4()), "type": kind, "created_at": event.at.isoformat(), "data": data}


@receiver(case_event, dispatch_uid="disputes.api.webhooks")
def send_webhooks(sender, event: CaseEvent, **kwargs) -> None:
    """Record and attempt the deliveries for one case event. Never raises: the change is committed
    and the caller's answer must not turn into an error because a receiver is down."""
    if event.name == "reminder":
        return
    try:
        deliveries = webhook_deliveries_create(event=event)
    except Exception:
        logger.exception("Could not record webhooks for %s on %s", event.name, event.reference)
        return
    for delivery in deliveries:
        try:
            webhook_deliver(delivery_id=delivery.pk)
        except Exception:
            logger.exception("Webhook delivery %s will be retried", delivery.pk)


# The active endpoints read once for a batch of events (`endpoints_read_once`), else None.
_batch_endpoints: ContextVar[list[WebhookEndpoint] | None] = ContextVar("batch_endpoints", default=None)


@contextmanager
def endpoints_read_once():
    """Within the block, deliveries go to the active endpoints as read when it began: one read for
    a batch of events (`process_deadlines`, per batch) instead of one per event."""
    token = _batch_endpoints.set(list(WebhookEndpoint.objects.filter(is_active=True)))
    try:
        yield
    finally:
        _batch_endpoints.reset(token)


def webhook_deliveries_create(*, event: CaseEvent) -> list[WebhookDelivery]:
    possible = webhook_events_possible(event)
    if not possible:
        return []  # a message, a note, evidence: no webhook event, so no endpoint read either
    endpoints = _batch_endpoints.get()
    if endpoints is None:
        endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
    endpoints = [endpoint for endpoint in endpoints if any(endpoint.wants(kind) for kind in possible)]
    if not endpoints:
        return []  # nobody listens for what this event can make: the case is not even read
    with transaction.atomic():
        case = Case.objects.select_related("order", "buyer", "seller").filter(pk=event.case_id).first()
        if case is None:
            return []
        now = timezone.now()
        deliveries = []
        for kind in webhook_events_for(event, case):
            wanting = [endpoint for endpoint in endpoints if endpoint.wants(kind)]
            if not wanting:
                continue
            payload = webhook_payload(kind, event, case)
            deliveries += WebhookDelivery.objects.bulk_create(
                WebhookDelivery(
                    endpoint=endpoint,
                    event=kind,
                    case=case,
                    payload=payload,
                    created_at=now,
                    next_attempt_at=now + FIRST_ATTEMPT_GRACE,
                )
                for endpoint in wanting
            )
        return deliveries


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery:
    """Send one delivery, unless it already went or was given up.

    Locks the delivery for the call, so the attempt after commit and `process_deadlines` on any
    number of hosts send it once at a time, and never after it succeeded.
    """
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery_id)
        if delivery.status in (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.GAVE_UP):
            return delivery
        code, error = _post(delivery)
        now = timezone.now()
        delivery.attempts += 1
        delivery.response_code = code
        if code is not None and 200 <= code < 300:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.last_error = ""
        else:
            delivery.last_error = error[:2000]
            if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
                delivery.status = WebhookDelivery.Status.GAVE_UP
                delivery.next_attempt_at = None
            else:
                delivery.status = WebhookDelivery.Status.RETRYING
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.save()
        return delivery


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer of its own (a failure), never a second request elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the signed body; returns the HTTP status (None when there was none) and an error text."""
    endpoint = delivery.endpoint
    body = payload_body(delivery.payload)
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "MarketplaceSupportDesk-Webhooks/1",
            "X-Desk-Event": delivery.event,
            "X-Desk-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: sign(endpoint.secret, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            response.read(2000)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}: {exc.read(500).decode(errors='replace')}".strip()
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections, a bad URL
        return None, f"{type(exc).__name__}: {exc}"


def webhook_due(now: datetime) -> Q:
    """The deliveries `process_deadlines` attempts now."""
    return Q(
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
        next_attempt_at__lte=now,
    )
