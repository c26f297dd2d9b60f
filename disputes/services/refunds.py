"""Refund instructions, sent to the payment side exactly once per idempotency key."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from disputes.models import RefundInstruction
from disputes.payments import PaymentError, RefundOrder, payment_adapter

logger = logging.getLogger(__name__)


def refund_dispatch(*, refund_id: int) -> RefundInstruction:
    """Hand one instruction to the payment adapter, unless it already went.

    Locks the instruction for the call, so concurrent workers and retries send it once; a
    second request for the same instruction returns the first result. A failure is kept for
    a later retry with backoff (`process_deadlines`).
    """
    with transaction.atomic():
        refund = (
            RefundInstruction.objects.select_for_update(of=("self",)).select_related("case__order").get(pk=refund_id)
        )
        if refund.status == RefundInstruction.Status.SENT:
            return refund
        order = RefundOrder(
            idempotency_key=refund.idempotency_key,
            case_reference=refund.case.reference,
            order_external_id=refund.case.order.external_id,
            amount=str(refund.amount),
            currency=refund.currency,
        )
        now = timezone.now()
        refund.attempts += 1
        try:
            refund.payment_reference = payment_adapter().refund(order)[:200]
        except PaymentError as error:
            refund.status = RefundInstruction.Status.FAILED
            refund.last_error = str(error)[:2000]
            refund.next_attempt_at = now + timedelta(minutes=2 ** min(refund.attempts, 10))
        else:
            refund.status = RefundInstruction.Status.SENT
            refund.sent_at = now
            refund.last_error = ""
            refund.next_attempt_at = None
        refund.save()
        return refund


def refund_dispatch_after_commit(refund: RefundInstruction) -> None:
    """Send a new instruction once the outcome that created it is committed; a failure here is
    retried by `process_deadlines`, never lost."""
    transaction.on_commit(lambda: _dispatch_quietly(refund.pk))


def _dispatch_quietly(refund_id: int) -> None:
    try:
        refund_dispatch(refund_id=refund_id)
    except Exception:
        logger.exception("Refund %s will be retried", refund_id)
