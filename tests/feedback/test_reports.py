"""Reports: figures on a hand-built set, the percentile fallback, permissions, CSV, query bound."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback import reports
from tests import factories
from tests.feedback.helpers import case_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def at():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def built(policy, seller, at):
    """Resolution hours by path: agreed 10, 20, 30, 40 (not_as_described); agent 100 (damaged)."""
    for hours in (10, 20, 30, 40):
        case_for(
            seller, at=at, filed_days_ago=10, answered_after_hours=1, outcome="full_refund", resolved_after_hours=hours
        )
    agent = factories.agent_user()
    case_for(
        seller,
        at=at,
        filed_days_ago=10,
        reason="damaged",
        outcome="no_action",
        resolved_after_hours=100,
        stage="mediation",
        agent=agent,
        answered_after_hours=80,
    )
    case_for(seller, at=at, filed_days_ago=2, answered_after_hours=1)  # open
    return reports.ReportFilters(start=(at - timedelta(days=30)).date(), end=at.date())


def test_percentile_interpolates_like_percentile_cont():
    assert reports.percentile([10, 20, 30, 40], 0.5) == 25
    assert reports.percentile([10, 20, 30, 40], 0.9) == pytest.approx(37)  # 30 + 0.7 * 10
    assert reports.percentile([], 0.5) is None


def test_resolution_times_by_path_and_reason(built):
    by_path = {row["group"]: row for row in reports.resolution_times(built, by="path")}
    assert by_path["agreed"] == {"group": "agreed", "cases": 4, "median_hours": 25.0, "p90_hours": 37.0}
    assert by_path["agent"]["median_hours"] == 100.0
    by_reason = {row["group"]: row["cases"] for row in reports.resolution_times(built, by="reason")}
    assert by_reason == {"not_as_described": 4, "damaged": 1}


def test_resolution_times_reason_filter(built):
    only = reports.ReportFilters(start=built.start, end=built.end, reason="damaged")
    assert [row["group"] for row in reports.resolution_times(only, by="path")] == ["agent"]


def test_resolved_without_agent_and_compliance(built):
    assert reports.resolved_without_agent(built) == {"resolved": 5, "without_agent": 4, "rate": 80.0}
    sellers, agents = reports.deadline_compliance(built)
    assert (sellers["due"], sellers["met"]) == (6, 5)  # the 80 h answer was late (72 h)
    assert agents["due"] == 1


def test_cases_per_week_counts_every_case_once(built):
    rows = reports.cases_per_week(built)
    assert sum(row["cases"] for row in rows) == 6


def test_date_range_excludes_cases_filed_before_the_start(built, seller, at):
    case_for(seller, at=at, filed_days_ago=40)
    assert sum(row["cases"] for row in reports.cases_per_week(built)) == 6


def test_top_dispute_rates(built, seller):
    (row,) = reports.top_dispute_rates(built)
    assert (row["seller"], row["orders"], row["cases"], row["rate"]) == ("seller", 6, 6, 100.0)


def test_reports_page_refuses_a_buyer(client, buyer):
    client.force_login(buyer)
    assert client.get("/console/reports/").status_code == 403
    assert client.get("/console/reports/weekly.csv").status_code == 403


def test_reports_page_for_an_agent_in_bounded_queries(client, built, agent, django_assert_max_num_queries):
    client.force_login(agent)
    with django_assert_max_num_queries(25):
        page = client.get("/console/reports/", {"start": built.start, "end": built.end})
    text = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in text and "Time to resolution" in text and "Agreed by the parties" in text


def test_reports_csv_export(client, built, agent):
    client.force_login(agent)
    response = client.get("/console/reports/by_path.csv", {"start": built.start, "end": built.end})
    lines = response.content.decode().splitlines()
    assert lines[0] == "group,cases,median_hours,p90_hours"
    assert "agreed,4,25.0,37.0" in lines
