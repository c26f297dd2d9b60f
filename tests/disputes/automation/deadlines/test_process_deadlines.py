"""`manage.py process_deadlines`: each rule of the pinned policy, one second before and one second
after its deadline, as the operator runs it (summary line included), and run again.

Cases are filed on Monday 2 March 2026 at 09:00 UTC under the default rules (`tests.factories`):
the seller has 72 hours, agents aim to decide in 48, a return has 10 days to go back and the seller
3 days to confirm it, the buyer 120 hours to answer the seller and 14 days of inactivity, the appeal
window is 7 days and a missed decision target goes to seniors 24 hours later. Reminders are off
(`reminder_hours=0`) except in the reminder tests, so each run does only the step under test.
The `deadlines` fixture checks on every run that each history row it writes is under the system
user with a reason.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from disputes import services
from disputes.management.commands import process_deadlines as command_module
from disputes.models import Outcome, RefundInstruction
from tests import factories
from tests.disputes.automation.conftest import MONDAY, SECOND, run_across
from tests.disputes.automation.deadlines.helpers import (
    DAY,
    HOUR,
    RATIONALE,
    S,
    another_case,
    notified,
    reasons,
)
from tests.disputes.case_states import OFFERED_AMOUNT, bring_to, reload

# The seller's answer deadline


def test_process_deadlines_leaves_an_unanswered_case_alone_until_the_seller_deadline(clock, deadlines, open_case):
    clock.just_before(open_case.seller_answer_due_at)

    run = deadlines()

    assert run.summary == "nothing due"
    assert run.history == []
    assert reload(open_case).state == S.OPEN


def test_process_deadlines_escalates_a_case_the_seller_did_not_answer_and_tells_both_sides_why(
    clock, deadlines, open_case, buyer, seller, mailoutbox
):
    due = open_case.seller_answer_due_at
    assert due == MONDAY + 72 * HOUR
    clock.just_after(due)

    run = deadlines()

    assert run.summary == "1 escalated"
    case = reload(open_case)
    assert case.state == S.ESCALATED
    assert (case.escalated_at, case.agent_decision_due_at) == (due + SECOND, due + SECOND + 48 * HOUR)
    assert run.case_reasons(case) == ["The seller did not answer in time"]
    assert case.history.latest().history_user == services.system_user()
    text = f"Case {case.reference} went to our team: the seller did not answer in time."
    assert notified(case, "escalate_unanswered") == {buyer: text, seller: text}
    assert sorted((mail.to, mail.subject) for mail in mailoutbox) == sorted(
        [([buyer.email], f"[{case.reference}] {text}"), ([seller.email], f"[{case.reference}] {text}")]
    )

    again = deadlines()

    assert (again.summary, again.history) == ("nothing due", [])
    assert len(notified(case, "escalate_unanswered")) == 2


def test_process_deadlines_leaves_a_case_the_seller_answered_to_the_buyer(clock, deadlines, open_case):
    case = bring_to(S.AWAITING_BUYER, open_case)
    clock.just_after(case.seller_answer_due_at)

    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.AWAITING_BUYER


# Returns


def test_process_deadlines_refunds_a_return_the_seller_did_not_confirm_in_time(
    clock, deadlines, open_case, buyer, seller
):
    case = bring_to(S.AWAITING_RETURN, open_case)
    clock.move_to(MONDAY + DAY)
    services.case_mark_return_shipped(case=case, buyer=buyer, carrier="PostNL", tracking_number="3SABC123")
    due = reload(case).return_confirm_due_at
    assert due == MONDAY + 4 * DAY

    run = run_across(due, clock=clock, deadlines=deadlines, case=case, state=S.AWAITING_RETURN)

    assert run.summary == "1 return lapsed"
    case = reload(case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, Outcome.RETURN_AND_REFUND, OFFERED_AMOUNT)
    assert case.resolved_at == due + SECOND
    assert run.case_reasons(case) == ["The return window passed"]
    refund = RefundInstruction.objects.get(case=case)
    assert (refund.amount, refund.currency, refund.idempotency_key) == (
        OFFERED_AMOUNT,
        "EUR",
        f"{case.reference}-resolution",
    )
    assert (refund.status, refund.payment_reference) == (
        RefundInstruction.Status.SENT,
        f"recorded:{refund.idempotency_key}",
    )
    assert set(notified(case, "lapse_return")) == {buyer, seller}

    again = deadlines()

    assert (again.summary, again.history) == ("nothing due", [])
    assert RefundInstruction.objects.filter(case=case).count() == 1


def test_process_deadlines_gives_a_return_shipped_on_the_last_day_its_full_confirm_window(
    clock, deadlines, open_case, buyer
):
    case = bring_to(S.AWAITING_RETURN, open_case)
    assert case.return_due_at == MONDAY + 10 * DAY
    clock.move_to(MONDAY + 9 * DAY)
    services.case_mark_return_shipped(case=case, buyer=buyer, carrier="PostNL", tracking_number="3SABC123")

    clock.just_after(case.return_due_at)
    assert deadlines().summary == "nothing due"
    assert reload(case).state == S.AWAITING_RETURN

    clock.just_after(MONDAY + 12 * DAY)
    assert deadlines().summary == "1 return lapsed"
    assert reload(case).outcome == Outcome.RETURN_AND_REFUND
    assert RefundInstruction.objects.filter(case=case).count() == 1


def test_process_deadlines_resolves_a_return_never_sent_back_with_no_action(clock, deadlines, open_case, buyer, seller):
    case = bring_to(S.AWAITING_RETURN, open_case)
    due = case.return_due_at

    run = run_across(due, clock=clock, deadlines=deadlines, case=case, state=S.AWAITING_RETURN)

    assert run.summary == "1 return lapsed"
    case = reload(case)
    assert (case.state, case.outcome, case.refund_amount) == (S.RESOLVED, Outcome.NO_ACTION, None)
    assert run.case_reasons(case) == ["The return window passed"]
    assert not RefundInstruction.objects.filter(case=case).exists()
    assert set(notified(case, "lapse_return")) == {buyer, seller}
    assert deadlines().summary == "nothing due"


# The agents' decision target


@pytest.mark.parametrize("state", [S.ESCALATED, S.IN_MEDIATION, S.APPEALED])
def test_process_deadlines_flags_a_missed_decision_target_then_raises_it_to_seniors_once_each(
    state, clock, deadlines, open_case, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # an appealed case's refund goes out at once
        case = bring_to(state, open_case, agent=agent)
    target = case.agent_decision_due_at
    assert target == MONDAY + 48 * HOUR

    clock.just_before(target)
    assert deadlines().summary == "nothing due"

    clock.just_after(target)
    run = deadlines()
    assert run.summary == "1 flagged overdue"
    case = reload(case)
    assert (case.state, case.decision_overdue_at, case.raised_to_seniors_at) == (state, target + SECOND, None)
    assert run.case_reasons(case) == ["The decision target passed: flagged overdue"]
    assert deadlines().summary == "nothing due"

    seniors_at = target + 24 * HOUR
    clock.just_before(seniors_at)
    assert deadlines().summary == "nothing due"
    assert reload(case).raised_to_seniors_at is None

    clock.just_after(seniors_at)
    run = deadlines()
    assert run.summary == "1 raised to seniors"
    case = reload(case)
    assert (case.state, case.raised_to_seniors_at) == (state, seniors_at + SECOND)
    assert run.case_reasons(case) == ["Still undecided: raised to senior agents"]

    clock.move_to(seniors_at + 30 * DAY)
    assert deadlines().summary == "nothing due"
    automated = [reason for reason in reasons(case) if "overdue" in reason or "senior" in reason]
    assert automated == ["The decision target passed: flagged overdue", "Still undecided: raised to senior agents"]


def test_process_deadlines_does_not_flag_a_case_decided_before_its_target(clock, deadlines, open_case, agent):
    case = bring_to(S.IN_MEDIATION, open_case, agent=agent)
    services.case_decide(case=case, agent=agent, outcome=Outcome.NO_ACTION, amount=None, rationale=RATIONALE)

    clock.just_after(case.agent_decision_due_at)

    assert deadlines().summary == "nothing due"
    assert reload(case).decision_overdue_at is None


# The appeal window


def test_process_deadlines_closes_a_resolved_case_when_its_appeal_window_passes(
    clock, deadlines, open_case, buyer, seller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # its refund goes out at once
        case = bring_to(S.RESOLVED, open_case)
    due = case.appeal_until
    assert due == MONDAY + 7 * DAY

    run = run_across(due, clock=clock, deadlines=deadlines, case=case, state=S.RESOLVED)

    assert run.summary == "1 closed after appeal window"
    case = reload(case)
    assert (case.state, case.closed_at) == (S.CLOSED, due + SECOND)
    assert run.case_reasons(case) == ["The appeal window passed"]
    assert set(notified(case, "close")) == {buyer, seller}
    assert deadlines().summary == "nothing due"


def test_process_deadlines_does_not_close_a_case_under_appeal(clock, deadlines, open_case):
    case = bring_to(S.APPEALED, open_case)

    clock.just_after(MONDAY + 7 * DAY)
    deadlines()

    assert reload(case).state == S.APPEALED


# All at once, and the command itself


def test_process_deadlines_does_each_due_step_once_however_often_it_runs(
    clock, deadlines, buyer, seller, agent, django_capture_on_commit_callbacks
):
    factories.dispute_policy(reminder_hours=0)
    with django_capture_on_commit_callbacks(execute=True):  # refunds go out as they would in production
        unanswered = another_case(buyer, seller)
        unanswered_offer = bring_to(S.AWAITING_BUYER, another_case(buyer, seller))
        return_not_sent = bring_to(S.AWAITING_RETURN, another_case(buyer, seller))
        resolved = bring_to(S.RESOLVED, another_case(buyer, seller))
        mediated = bring_to(S.IN_MEDIATION, another_case(buyer, seller), agent=agent)
        services.evidence_request_create(
            case=mediated, agent=agent, party=seller, note="The dispatch photo.", due_at=MONDAY + DAY
        )

    clock.move_to(MONDAY + 20 * DAY)
    first = deadlines()

    assert first.summary == (
        "1 closed after appeal window, 1 closed inactive, 1 escalated, 1 evidence missed, 1 flagged overdue, "
        "1 return lapsed"
    )
    states = {case: reload(case).state for case in [unanswered, unanswered_offer, return_not_sent, resolved, mediated]}
    assert states == {
        unanswered: S.ESCALATED,
        unanswered_offer: S.CLOSED,
        return_not_sent: S.RESOLVED,
        resolved: S.CLOSED,
        mediated: S.IN_MEDIATION,
    }
    assert len(first.history) == 7  # five cases, the mediated one twice, and the lapsed offer
    assert {row.history_user for row in first.history} == {services.system_user()}
    assert all(row.history_change_reason for row in first.history)
    # The second period for seniors had passed as well: that step is taken on the next run.
    assert deadlines().summary == "1 raised to seniors"
    third = deadlines()
    assert (third.summary, third.history) == ("nothing due", [])
    assert RefundInstruction.objects.filter(case=resolved).count() == 1


def test_process_deadlines_loop_runs_again_after_each_interval(clock, open_case, monkeypatch):
    naps = []

    class Stop(Exception):
        pass

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            raise Stop
        clock.just_after(open_case.seller_answer_due_at)  # the deadline passes while it waits

    monkeypatch.setattr(command_module.time, "sleep", sleep)
    out = StringIO()

    with pytest.raises(Stop):
        call_command("process_deadlines", "--loop", "--interval", "30", stdout=out)

    lines = out.getvalue().strip().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["nothing due.", "1 escalated."]
    assert naps == [30, 30]
    assert reload(open_case).state == S.ESCALATED
