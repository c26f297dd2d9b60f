"""What `process_deadlines` does: every step that is due, once, on any number of hosts.

Each due item is taken in its own transaction with `SELECT … FOR UPDATE SKIP LOCKED`: a row
another worker holds is skipped, and a row it already handled no longer matches "due" when
this worker looks again. Steps re-check their rule under the lock, so running the command
twice, or on two hosts at once, does each step once.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from disputes.exceptions import DisputeError
from disputes.models import Case, EvidenceRequest, RefundInstruction, Reminder, WebhookDelivery
from disputes.services import automation
from disputes.services._common import system_user
from disputes.services.cases import case_close, case_lapse_return
from disputes.services.refunds import refund_dispatch
from policies.models import Policy

S = Case.State
logger = logging.getLogger(__name__)
Progress = Callable[[str, int], None]
# Evidence is awaited only while an agent is deciding; a finished case is not chased for it.
AWAITING_EVIDENCE = [S.IN_MEDIATION, S.APPEALED]


def process_deadlines(*, batch_size: int = 200, progress: Progress | None = None) -> Counter:
    """Run every due step once; returns how many of each kind were done."""
    now = timezone.now()
    done: Counter = Counter()
    system = system_user()  # once per run: every step is recorded under it
    # (what, which rows are due, the step; a step returns what it did, or None when it did nothing).
    # A case step gets its case locked, with its order and policy version.
    steps = [
        (
            "seller deadline",
            Q(state=S.OPEN, seller_answered_at__isnull=True, seller_answer_due_at__lt=now),
            lambda case: automation.handle_unanswered(case, actor=system),
        ),
        (
            "buyer silence",
            _buyer_silence(now),
            lambda case: automation.close_inactive(case, actor=system) and "closed_inactive",
        ),
        (
            "return window",
            _return_lapsed(now),
            lambda case: case_lapse_return(case=case, actor=system) and "return_lapsed",
        ),
        (
            "appeal window",
            Q(state=S.RESOLVED, appeal_until__lt=now),
            lambda case: case_close(case=case, actor=system) and "closed_after_appeal_window",
        ),
        ("decision target", _decision_overdue(now), lambda case: automation.flag_overdue(case, actor=system)),
    ]
    others = [
        (
            "evidence requests",
            EvidenceRequest,
            Q(fulfilled_at__isnull=True, missed_at__isnull=True, due_at__lt=now, case__state__in=AWAITING_EVIDENCE),
            lambda request: automation.evidence_request_mark_missed(request_id=request.pk, actor=system),
        ),
        ("refunds", RefundInstruction, _refund_due(now), _send_refund),
        ("webhooks", WebhookDelivery, _webhook_due(now), _send_webhook),
    ]
    cases = Case.objects.select_related("order", "policy_version")
    for label, due, step in [(label, cases.filter(condition), step) for label, condition, step in steps] + [
        (label, model.objects.filter(condition), step) for label, model, condition, step in others
    ]:
        for outcome in _run(due.order_by("pk"), step, batch_size=batch_size):
            if outcome:
                done[outcome] += 1
            if progress:
                progress(label, 1)
    done.update(send_reminders(now=now))
    return done


def _run(due: QuerySet, step, *, batch_size: int) -> Iterable[str | None]:
    """Take due rows in batches, each under its own lock; skip rows another worker holds."""
    last_pk = 0
    while True:
        ids = list(due.filter(pk__gt=last_pk).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        with _side_effects_per_batch():
            for pk in ids:
                last_pk = pk
                yield _take(due, pk, step)


@contextmanager
def _side_effects_per_batch():
    """What runs after each case commits shares its reads across the batch."""
    from disputes.api.webhooks import endpoints_read_once
    from disputes.notifications import notices_batched

    with endpoints_read_once(), notices_batched():
        yield


def _take(due: QuerySet, pk: int, step) -> str | None:
    """One row, one transaction: a step that fails rolls back its own row's work and nothing else."""
    try:
        with transaction.atomic():
            row = due.filter(pk=pk).select_for_update(skip_locked=True, of=("self",)).first()
            if row is None:
                return None  # another worker has it, or it is no longer due
            return step(row)
    except DisputeError:
        return None  # the exact rule does not hold yet (e.g. business time not over)
    except Exception:
        # One broken row must not stop every other due step; it is retried next run.
        logger.exception("Deadline step failed for %s %s", due.model.__name__, pk)
        return "failed"


def _send_refund(refund: RefundInstruction) -> str:
    refund = refund_dispatch(refund_id=refund.pk)
    return "refund_sent" if refund.status == RefundInstruction.Status.SENT else "refund_failed"


def _buyer_silence(now: datetime) -> Q:
    """Candidates only: the exact window (business days) is checked by the transition."""
    shortest = Policy.history.aggregate(days=Min("buyer_inactivity_days"))["days"] or 1
    return Q(state=S.AWAITING_BUYER) & (
        Q(buyer_answer_due_at__lt=now) | Q(buyer_last_active_at__lt=now - timedelta(days=shortest))
    )


def _return_lapsed(now: datetime) -> Q:
    shipped = Q(return_shipped_at__isnull=False, return_confirm_due_at__lt=now)
    not_shipped = Q(return_shipped_at__isnull=True, return_due_at__lt=now)
    return Q(state=S.AWAITING_RETURN) & (shipped | not_shipped)


def _decision_overdue(now: datetime) -> Q:
    waiting = Q(state__in=[S.ESCALATED, S.IN_MEDIATION, S.APPEALED], agent_decision_due_at__lt=now)
    return waiting & (Q(decision_overdue_at__isnull=True) | Q(raised_to_seniors_at__isnull=True))


def _refund_due(now: datetime) -> Q:
    failed = Q(status=RefundInstruction.Status.FAILED, next_attempt_at__lte=now)
    # A pending one normally goes right after commit; pick it up if that did not happen.
    stale = Q(status=RefundInstruction.Status.PENDING, created_at__lt=now - timedelta(minutes=1))
    return failed | stale


# Reminders: (kind, which cases, the deadline, who is reminded).
REMINDERS = [
    (Reminder.Kind.SELLER_ANSWER, Q(state=S.OPEN, seller_answered_at__isnull=True), "seller_answer_due_at", "seller"),
    (Reminder.Kind.BUYER_ANSWER, Q(state=S.AWAITING_BUYER), "buyer_answer_due_at", "buyer"),
    (
        Reminder.Kind.RETURN_SHIPPING,
        Q(state=S.AWAITING_RETURN, return_shipped_at__isnull=True),
        "return_due_at",
        "buyer",
    ),
    (
        Reminder.Kind.RETURN_CONFIRM,
        Q(state=S.AWAITING_RETURN, return_shipped_at__isnull=False),
        "return_confirm_due_at",
        "seller",
    ),
    (
        Reminder.Kind.AGENT_DECISION,
        Q(state__in=[S.IN_MEDIATION, S.APPEALED], agent__isnull=False),
        "agent_decision_due_at",
        "agent",
    ),
]


def send_reminders(*, now: datetime) -> Counter:
    """Remind each person once before each of their deadlines (the policy says how long before)."""
    sent: Counter = Counter()
    longest = Policy.history.aggregate(hours=Max("reminder_hours"))["hours"] or 0
    if not longest:
        return sent
    horizon = now + timedelta(hours=longest)
    for kind, which, deadline, who in REMINDERS:
        window = Q(**{f"{deadline}__gt": now, f"{deadline}__lte": horizon})
        cases = Case.objects.filter(which & window).select_related("policy_version", who)
        for case in cases.iterator(chunk_size=500):
            due_at = getattr(case, deadline)
            if _in_reminder_window(case, due_at, now) and automation.reminder_send(
                case=case, kind=kind, due_at=due_at, recipient=getattr(case, who)
            ):
                sent[f"reminded_{kind}"] += 1
    requests = EvidenceRequest.objects.filter(
        fulfilled_at__isnull=True, due_at__gt=now, due_at__lte=horizon, case__state__in=AWAITING_EVIDENCE
    ).select_related("case__policy_version", "requested_from")
    for request in requests.iterator(chunk_size=500):
        if _in_reminder_window(request.case, request.due_at, now) and automation.reminder_send(
            case=request.case, kind=Reminder.Kind.EVIDENCE, due_at=request.due_at, recipient=request.requested_from
        ):
            sent[f"reminded_{Reminder.Kind.EVIDENCE}"] += 1
    return sent


def _in_reminder_window(case: Case, due_at: datetime, now: datetime) -> bool:
    hours = case.rules.reminder_hours
    return bool(hours) and now >= due_at - timedelta(hours=hours)


def _webhook_due(now: datetime) -> Q:
    from disputes.api.webhooks import webhook_due

    return webhook_due(now)


def _send_webhook(delivery: WebhookDelivery) -> str:
    """Retry a webhook that failed (with backoff) or whose first attempt never happened."""
    from disputes.api.webhooks import webhook_deliver

    delivery = webhook_deliver(delivery_id=delivery.pk)
    return "webhook_delivered" if delivery.status == WebhookDelivery.Status.DELIVERED else "webhook_failed"
