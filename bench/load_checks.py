"""After the load: what was stored against what was sent and seen, and the printed report.

`check` reads the database (ORM, in this process): each message token stored exactly once if it
was accepted, never if refused, nor after a 5xx answer; every stored message delivered to every
socket in its room (live or by resync); and `invariant_violations`, what no sequence of requests
may leave behind. `print_report` prints it all, with the verdict.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from bench.harness import print_table
from bench.load_scenario import Traffic


@dataclass
class Report:
    messages: dict
    delivery: dict
    violations: list[str]
    server_errors: int
    transport_errors: int

    @property
    def ok(self) -> bool:
        return not (
            self.violations
            or self.server_errors
            or self.transport_errors
            or self.messages["lost"]
            or self.messages["doubled"]
            or self.messages["refused but stored"]
            or self.messages["error answer but stored"]
            or self.delivery["missing"]
        )


def check(traffic: Traffic, *, allow_transport_errors: bool = False) -> Report:
    from disputes.models import Case, Message

    tokens = defaultdict(list)
    for message_id, body in Message.objects.filter(body__startswith="LT").values_list("pk", "body"):
        tokens[body.split(" ", 1)[0]].append(message_id)
    outcomes = Counter(sent.outcome for sent in traffic.sent)
    messages = {
        "sent": len(traffic.sent),
        "accepted": outcomes["accepted"],
        "refused": outcomes["refused"],
        "unknown (no answer)": outcomes["unknown"],
        "error answer": outcomes["error"],
        "stored": sum(1 for sent in traffic.sent if tokens.get(sent.token)),
        "lost": sum(1 for s in traffic.sent if s.outcome == "accepted" and not tokens.get(s.token)),
        "doubled": sum(1 for ids in tokens.values() if len(ids) > 1),
        "refused but stored": sum(1 for s in traffic.sent if s.outcome == "refused" and tokens.get(s.token)),
        # A server error after the message was committed: the sender would send it again.
        "error answer but stored": sum(1 for s in traffic.sent if s.outcome == "error" and tokens.get(s.token)),
        "acknowledged id differs": sum(
            1 for s in traffic.sent if s.message_id and tokens.get(s.token) and s.message_id not in tokens[s.token]
        ),
    }
    messages["lost"] += messages["acknowledged id differs"]

    case_ids = {room: Case.pk_from_reference(room) for room in {s.room for s in traffic.sockets}}
    stored_by_case = defaultdict(list)
    for message_id, case_id, internal in Message.objects.filter(case_id__in=case_ids.values()).values_list(
        "pk", "case_id", "is_internal"
    ):
        stored_by_case[case_id].append((message_id, internal))
    delivery = Counter()
    missing_examples = []
    for socket in traffic.sockets:
        expected = {mid for mid, internal in stored_by_case[case_ids[socket.room]] if socket.is_agent or not internal}
        received = socket.live | socket.resynced
        delivery["expected"] += len(expected)
        delivery["live"] += len(expected & socket.live)
        delivery["by resync only"] += len((expected & socket.resynced) - socket.live)
        missing = expected - received
        delivery["missing"] += len(missing)
        delivery["unexpected"] += len(received - expected)
        delivery["duplicate frames"] += socket.duplicate_frames
        delivery["gaps noticed"] += socket.gaps
        delivery["reconnects"] += max(0, socket.connects - 1)
        if missing and len(missing_examples) < 5:
            missing_examples.append(f"{socket.username} in {socket.room}: {sorted(missing)[:5]}")
    delivery["missing"] += delivery.pop("unexpected")
    violations = invariant_violations() + [f"not delivered: {example}" for example in missing_examples]
    return Report(
        messages=messages,
        delivery=dict(delivery),
        violations=violations,
        server_errors=traffic.server_errors(),
        transport_errors=0 if allow_transport_errors else traffic.transport_errors(),
    )


def invariant_violations() -> list[str]:
    """What no sequence of requests may leave behind."""
    from django.db.models import Count, Sum

    from disputes.models import Case, Decision, Order, RefundInstruction

    S = Case.State
    problems = []
    settled = (S.RESOLVED, S.AWAITING_RETURN, S.APPEALED, S.CLOSED)
    for case in Case.objects.filter(state__in=(S.RESOLVED, S.AWAITING_RETURN, S.CLOSED), outcome=""):
        if not (case.state == S.CLOSED and case.history.filter(state=S.AWAITING_BUYER).exists()):
            problems.append(f"{case.reference} is {case.state} without an outcome")
    for decision in Decision.objects.select_related("case"):
        case = decision.case
        if case.state not in settled:
            problems.append(f"{case.reference} has a {decision.stage} decision but is {case.state}")
        latest = Decision.objects.filter(case=case).order_by("-decided_at", "-pk").first()
        if latest.pk == decision.pk and case.outcome != decision.outcome:
            problems.append(f"{case.reference}: outcome {case.outcome!r}, decision said {decision.outcome!r}")
    for row in (
        Case.objects.exclude(state__in=(S.CLOSED, S.WITHDRAWN, S.RESOLVED))
        .values("order")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    ):
        problems.append(f"order {row['order']} has {row['n']} open cases")
    for order in Order.objects.annotate(refunded=Sum("cases__refunds__amount")).filter(refunded__isnull=False):
        if order.refunded > order.amount:
            problems.append(f"order {order.external_id}: refunded {order.refunded} of {order.amount}")
    for refund in RefundInstruction.objects.select_related("case"):
        if refund.case.state not in settled:
            problems.append(f"{refund.case.reference} has a refund but is {refund.case.state}")
    for row in RefundInstruction.objects.values("case").annotate(n=Count("pk")).filter(n__gt=2):
        problems.append(f"case {row['case']} has {row['n']} refund instructions")
    for case in Case.objects.all():
        rows = list(case.history.order_by("history_date", "history_id").values_list("state", flat=True))
        if not rows or rows[0] != S.OPEN:
            problems.append(f"{case.reference} has no history row for its filing")
        elif rows[-1] != case.state:
            problems.append(f"{case.reference} is {case.state} but its history ends at {rows[-1]}")
        if case.state in (S.RESOLVED, S.APPEALED) and case.refund_amount:
            if not case.refunds.filter(idempotency_key=f"{case.reference}-resolution").exists():
                problems.append(f"{case.reference} is {case.state} with a refund but has no refund instruction")
    return problems


def print_report(traffic: Traffic, report: Report, *, verdict: bool = True) -> None:
    print(f"\nRequests ({traffic.seconds} s):")
    rows = sorted(traffic.statuses.items(), key=lambda item: (item[0][0], str(item[0][1])))
    print_table(["kind", "status", "count"], [[kind, status, n] for (kind, status), n in rows])
    print("\nMessages (each carries a unique token):")
    print_table(["what", "count"], [[k, v] for k, v in report.messages.items()])
    print("\nDelivery to the sockets in each room (every message stored on that case):")
    print_table(["what", "count"], [[k, v] for k, v in sorted(report.delivery.items())])
    closes = traffic.abnormal_closes()
    print(f"\nServer errors (5xx): {report.server_errors}; broken connections: {report.transport_errors}")
    if closes:
        print("Sockets closed by the server or the network (close code → count):", dict(closes))
    print(f"Invariant violations: {len(report.violations)}")
    for problem in report.violations[:30]:
        print(f"  - {problem}")
    if verdict:
        print("\nRESULT:", "nothing lost or wrong" if report.ok else "FAILED")
