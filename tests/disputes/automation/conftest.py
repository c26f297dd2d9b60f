"""Shared by the automation tests: a frozen clock, and `process_deadlines` run as an operator runs it.

`deadlines()` calls the management command with its after-commit callbacks executed (the events,
notifications and refund dispatch a real run does once each case commits), returns what the
summary line says it did, and checks the audit rule of issue 5 on every run: each history row the
command writes is under the system user and carries a reason.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Max

from disputes import services
from disputes.models import Case, Decision, Offer, Order

# A Monday, so that a few hours or days from here stay on business days.
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)

AUDITED = [Case, Offer, Decision, Order]
SUMMARY = re.compile(r"^Deadlines processed in \d+\.\ds: (?P<done>.+)\.$")


class Clock:
    """Frozen time (`tick=False`): it moves only when a test moves it."""

    def __init__(self, machine):
        self.machine = machine

    def move_to(self, when: datetime) -> datetime:
        self.machine.move_to(when, tick=False)
        return when

    def just_before(self, deadline: datetime) -> datetime:
        return self.move_to(deadline - SECOND)

    def just_after(self, deadline: datetime) -> datetime:
        return self.move_to(deadline + SECOND)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    return Clock(time_machine)


@dataclass
class Run:
    summary: str  # what the summary line lists, e.g. "1 escalated" or "nothing due"
    output: str
    history: list  # history rows the run wrote, every audited model

    def case_reasons(self, case: Case) -> list[str]:
        """The reasons of the history rows this run wrote for `case`, oldest first."""
        case_history = Case.history.model
        return [
            row.history_change_reason for row in self.history if isinstance(row, case_history) and row.id == case.pk
        ]


def history_marks() -> dict:
    return {model: model.history.aggregate(last=Max("history_id"))["last"] or 0 for model in AUDITED}


def history_since(marks: dict) -> list:
    rows = []
    for model, last in marks.items():
        rows += list(model.history.filter(history_id__gt=last).select_related("history_user").order_by("history_id"))
    return rows


@pytest.fixture
def deadlines(django_capture_on_commit_callbacks):
    def run(*args) -> Run:
        marks = history_marks()
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("process_deadlines", *args, stdout=out)
        output = out.getvalue()
        lines = output.strip().splitlines()
        assert len(lines) == 1, output
        match = SUMMARY.match(lines[0])
        assert match, f"no summary line in {output!r}"
        rows = history_since(marks)
        system = services.system_user()
        for row in rows:
            assert row.history_user == system, f"{row!r} is recorded under {row.history_user}, not the system user"
            assert (row.history_change_reason or "").strip(), f"{row!r} has no reason"
        return Run(summary=match["done"], output=output, history=rows)

    return run


def run_across(due: datetime, *, clock: Clock, deadlines, case: Case, state: str) -> Run:
    """A deadline kept to the second: just before `due` nothing is due and the case is still in
    `state`; the run just after it (what it did is for the test to say)."""
    clock.just_before(due)
    assert deadlines().summary == "nothing due"
    assert Case.objects.get(pk=case.pk).state == state
    clock.just_after(due)
    return deadlines()
