"""Refund instructions reach the payment side exactly once per idempotency key.

An outcome that moves money records one instruction; it is handed to the adapter named by
`settings.PAYMENT_ADAPTER` after the outcome commits. A failure is kept with a backoff and
`process_deadlines` retries it; once the payment side has answered, asking again returns that
first answer. The default adapter, given `PAYMENT_WEBHOOK_URL`, posts a signed JSON body.
Cases here resolve when the buyer accepts the seller's 20.00 partial refund.
"""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from django.db import connection, connections, transaction

from disputes.models import Case, RefundInstruction
from disputes.payments import PaymentError, RefundOrder
from disputes.services.refunds import refund_dispatch
from tests import factories
from tests.disputes.automation.conftest import MONDAY, SECOND
from tests.disputes.case_states import OFFERED_AMOUNT, bring_to

S = Case.State
Status = RefundInstruction.Status
MODULE = __name__
SECRET = "whsec-test-only"


class CountingAdapter:
    """Answers every instruction; remembers each call."""

    calls: ClassVar[list[RefundOrder]] = []

    def refund(self, order: RefundOrder) -> str:
        CountingAdapter.calls.append(order)
        return f"PAY-{len(CountingAdapter.calls)}"


class FailingAdapter:
    """The payment side refuses: each call is remembered with the others."""

    def refund(self, order: RefundOrder) -> str:
        CountingAdapter.calls.append(order)
        raise PaymentError("The card network is down")


@pytest.fixture
def adapter(settings):
    CountingAdapter.calls = []
    settings.PAYMENT_ADAPTER = f"{MODULE}.CountingAdapter"
    return CountingAdapter


@pytest.fixture
def failing_adapter(settings, adapter):
    settings.PAYMENT_ADAPTER = f"{MODULE}.FailingAdapter"
    return adapter


@pytest.fixture
def policy(db, clock):
    return factories.dispute_policy(reminder_hours=0)


@pytest.fixture
def resolve(open_case, django_capture_on_commit_callbacks):
    """Resolve the open case with a refund, the outcome committing as in production."""

    def resolve_case() -> RefundInstruction:
        with django_capture_on_commit_callbacks(execute=True):
            case = bring_to(S.RESOLVED, open_case)
        return RefundInstruction.objects.get(case=case)

    return resolve_case


def test_refund_dispatch_sends_a_new_instruction_once_after_the_outcome_commits(
    clock, deadlines, adapter, open_case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as after_commit:
        case = bring_to(S.RESOLVED, open_case)
        refund = RefundInstruction.objects.get(case=case)
        assert (refund.status, refund.attempts, adapter.calls) == (Status.PENDING, 0, [])

    for callback in after_commit:
        callback()

    refund.refresh_from_db()
    assert (refund.status, refund.payment_reference, refund.attempts) == (Status.SENT, "PAY-1", 1)
    assert (refund.sent_at, refund.next_attempt_at, refund.last_error) == (MONDAY, None, "")
    assert adapter.calls == [
        RefundOrder(
            idempotency_key=f"{case.reference}-resolution",
            case_reference=case.reference,
            order_external_id=case.order.external_id,
            amount="20.00",
            currency="EUR",
        )
    ]

    clock.move_to(MONDAY + timedelta(days=1))
    assert deadlines().summary == "nothing due"
    assert len(adapter.calls) == 1


def test_refund_dispatch_sends_nothing_for_an_outcome_that_rolled_back(
    adapter, clock, open_case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        bring_to(S.RESOLVED, open_case)
        raise RuntimeError("the request failed after the decision")

    assert not RefundInstruction.objects.exists()
    assert adapter.calls == []


def test_refund_dispatch_failing_adapter_leaves_the_instruction_failed_with_backoff_and_process_deadlines_retries(
    clock, deadlines, failing_adapter, resolve, settings
):
    refund = resolve()

    assert (refund.status, refund.attempts, refund.last_error) == (Status.FAILED, 1, "The card network is down")
    assert (refund.sent_at, refund.payment_reference) == (None, "")
    first_retry = refund.next_attempt_at
    assert first_retry == MONDAY + timedelta(minutes=2)

    clock.just_before(first_retry)
    assert deadlines().summary == "nothing due"
    assert len(failing_adapter.calls) == 1

    clock.just_after(first_retry)
    assert deadlines().summary == "1 refund failed"
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (Status.FAILED, 2)
    second_retry = refund.next_attempt_at
    assert second_retry == first_retry + SECOND + timedelta(minutes=4)

    settings.PAYMENT_ADAPTER = f"{MODULE}.CountingAdapter"  # the payment side is back
    clock.just_after(second_retry)
    assert deadlines().summary == "1 refund sent"
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.payment_reference) == (Status.SENT, 3, "PAY-3")
    assert (refund.sent_at, refund.next_attempt_at, refund.last_error) == (second_retry + SECOND, None, "")

    clock.move_to(second_retry + timedelta(days=1))
    assert deadlines().summary == "nothing due"
    assert [order.idempotency_key for order in failing_adapter.calls] == [refund.idempotency_key] * 3


def test_refund_dispatch_of_a_sent_instruction_returns_the_first_result_without_calling_the_adapter(
    clock, adapter, resolve
):
    refund = resolve()
    assert (refund.status, len(adapter.calls)) == (Status.SENT, 1)

    clock.move_to(MONDAY + timedelta(hours=1))
    again = refund_dispatch(refund_id=refund.pk)
    once_more = refund_dispatch(refund_id=refund.pk)

    for answer in (again, once_more):
        assert (answer.pk, answer.status, answer.payment_reference) == (refund.pk, Status.SENT, "PAY-1")
        assert (answer.sent_at, answer.attempts) == (MONDAY, 1)
    assert len(adapter.calls) == 1


def test_process_deadlines_sends_a_refund_whose_dispatch_after_commit_never_ran(clock, deadlines, adapter, open_case):
    case = bring_to(S.RESOLVED, open_case)  # committed, but the process stopped before dispatching

    clock.move_to(MONDAY + timedelta(minutes=1))
    assert deadlines().summary == "nothing due"  # it may still be on its way
    assert adapter.calls == []

    clock.move_to(MONDAY + timedelta(minutes=1) + SECOND)
    assert deadlines().summary == "1 refund sent"
    refund = RefundInstruction.objects.get(case=case)
    assert (refund.status, refund.payment_reference, len(adapter.calls)) == (Status.SENT, "PAY-1", 1)
    assert deadlines().summary == "nothing due"


# The default adapter's webhook


class PaymentSide(BaseHTTPRequestHandler):
    """A local payment endpoint: records each request and answers from `server.answers`."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, self.headers, body))
        status, answer = self.server.answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format, *args):  # keep the test output clean
        pass


@pytest.fixture
def payment_side(settings):
    server = HTTPServer(("127.0.0.1", 0), PaymentSide)  # port 0: a free port
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.PAYMENT_ADAPTER = "disputes.payments.RecordingAdapter"
    settings.PAYMENT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_address[1]}/refunds"
    settings.PAYMENT_WEBHOOK_SECRET = SECRET
    settings.PAYMENT_WEBHOOK_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_recording_adapter_posts_a_signed_body_with_the_idempotency_key(clock, payment_side, resolve):
    payment_side.answers.append((200, b"PSP-REF-42\n"))

    refund = resolve()

    assert (refund.status, refund.payment_reference) == (Status.SENT, "PSP-REF-42")
    [(path, headers, body)] = payment_side.received
    assert path == "/refunds"
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == refund.idempotency_key
    assert headers["X-Signature-SHA256"] == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body) == {
        "idempotency_key": refund.idempotency_key,
        "case_reference": refund.case.reference,
        "order_external_id": refund.case.order.external_id,
        "amount": str(OFFERED_AMOUNT),
        "currency": "EUR",
    }


def test_recording_adapter_keeps_a_refused_webhook_call_for_a_retry_with_the_same_key_and_body(
    clock, deadlines, payment_side, resolve
):
    payment_side.answers += [(503, b"busy"), (200, b"PSP-REF-43")]

    refund = resolve()

    assert refund.status == Status.FAILED
    assert refund.last_error.startswith("The payment webhook failed: HTTP Error 503")
    clock.just_after(refund.next_attempt_at)
    assert deadlines().summary == "1 refund sent"
    refund.refresh_from_db()
    assert (refund.status, refund.payment_reference) == (Status.SENT, "PSP-REF-43")
    [first, second] = payment_side.received
    assert first[2] == second[2]
    assert first[1]["Idempotency-Key"] == second[1]["Idempotency-Key"] == refund.idempotency_key
    assert first[1]["X-Signature-SHA256"] == second[1]["X-Signature-SHA256"]


def test_recording_adapter_without_a_webhook_records_the_instruction(clock, settings, adapter, resolve):
    settings.PAYMENT_ADAPTER = "disputes.payments.RecordingAdapter"
    settings.PAYMENT_WEBHOOK_URL = ""

    refund = resolve()

    assert (refund.status, refund.payment_reference) == (Status.SENT, f"recorded:{refund.idempotency_key}")


# Row locks while the payment side answers (PostgreSQL)


class SlowAdapter:
    """Holds the call open until the test lets it answer."""

    called = threading.Event()
    release = threading.Event()

    def refund(self, order: RefundOrder) -> str:
        SlowAdapter.called.set()
        assert SlowAdapter.release.wait(20), "the test never let the payment side answer"
        return "PAY-SLOW"


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=f"needs PostgreSQL row locks (SELECT ... FOR UPDATE NOWAIT); the database is {connection.vendor}",
)
@pytest.mark.django_db(transaction=True)
def test_refund_dispatch_locks_only_the_instruction_while_the_payment_side_answers(
    settings, failing_adapter, buyer, seller
):
    factories.dispute_policy()
    case = bring_to(S.RESOLVED, factories.case(order_=factories.order(buyer=buyer, seller=seller)))
    refund = RefundInstruction.objects.get(case=case)
    assert refund.status == Status.FAILED  # sent at commit, refused: the retry below is the one held open
    settings.PAYMENT_ADAPTER = f"{MODULE}.SlowAdapter"
    SlowAdapter.called.clear()
    SlowAdapter.release.clear()
    results = []

    def dispatch():
        try:
            results.append(refund_dispatch(refund_id=refund.pk).status)
        finally:
            connections.close_all()

    worker = threading.Thread(target=dispatch, daemon=True)
    worker.start()
    try:
        assert SlowAdapter.called.wait(20)
        # The parties and agents keep working on the case (and the marketplace on the order).
        with transaction.atomic():
            Case.objects.select_for_update(nowait=True).get(pk=case.pk)
            type(case.order).objects.select_for_update(nowait=True).get(pk=case.order_id)
        with transaction.atomic(), pytest.raises(Exception, match="could not obtain lock"):
            RefundInstruction.objects.select_for_update(nowait=True).get(pk=refund.pk)
    finally:
        SlowAdapter.release.set()
        worker.join(20)

    assert results == [Status.SENT]
