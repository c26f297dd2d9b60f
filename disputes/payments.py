"""The payment side: where refund instructions go. Chosen by `settings.PAYMENT_ADAPTER`.

An adapter gets each instruction with its idempotency key and returns the payment side's
reference; it raises `PaymentError` when the payment side refuses or cannot be reached.
The desk calls it again for the same key only until it succeeds once.
"""

import hashlib
import hmac
import json
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


class PaymentError(Exception):
    pass


@dataclass(frozen=True)
class RefundOrder:
    idempotency_key: str
    case_reference: str
    order_external_id: str
    amount: str
    currency: str


class RecordingAdapter:
    """Records the instruction in the desk; with `PAYMENT_WEBHOOK_URL` set, also posts it there
    (signed with HMAC-SHA256 over the body under `PAYMENT_WEBHOOK_SECRET`)."""

    def refund(self, order: RefundOrder) -> str:
        url = settings.PAYMENT_WEBHOOK_URL
        if not url:
            return f"recorded:{order.idempotency_key}"
        body = json.dumps(order.__dict__).encode()
        signature = hmac.new(settings.PAYMENT_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": order.idempotency_key,
                "X-Signature-SHA256": signature,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.PAYMENT_WEBHOOK_TIMEOUT) as response:
                answer = response.read(2000).decode(errors="replace")
        except OSError as exc:  # URLError, HTTPError, timeouts
            raise PaymentError(f"The payment webhook failed: {exc}") from exc
        return answer.strip() or f"webhook:{order.idempotency_key}"


def payment_adapter():
    return import_string(settings.PAYMENT_ADAPTER)()
