"""The policy clock: deadlines in calendar time, or in business time (weekdays that are not listed
holidays, days starting at midnight in the marketplace's time zone).

March 2026: Monday 2nd, Friday 6th, Saturday 7th, Sunday 8th, Monday 9th, Tuesday 10th. Europe
moves its clocks forward in the night to Sunday 29 March 2026.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from disputes.clock import deadline_after
from policies.models import Policy, parse_holidays
from policies.services import policy_save
from tests import factories
from tests.policies.test_policy_admin import admin_form

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FRIDAY_EVENING = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
MONDAY_EVENING = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
HOLIDAY_MESSAGE = "Write one date per line as YYYY-MM-DD."


def business(holidays: str = "") -> Policy:
    return Policy(count_business_days=True, holidays=holidays)


def calendar(holidays: str = "") -> Policy:
    return Policy(count_business_days=False, holidays=holidays)


def test_deadline_after_24_business_hours_from_friday_evening_ends_monday_evening():
    assert deadline_after(FRIDAY_EVENING, business(), hours=24) == MONDAY_EVENING


def test_deadline_after_skips_a_holiday_on_the_monday():
    assert deadline_after(FRIDAY_EVENING, business("2026-03-09"), hours=24) == datetime(2026, 3, 10, 18, tzinfo=UTC)


def test_deadline_after_skips_several_holidays_written_with_comments_and_blank_lines():
    holidays = "# spring break\n2026-03-09  # Monday\n\n2026-03-10\n"

    assert deadline_after(FRIDAY_EVENING, business(holidays), hours=24) == datetime(2026, 3, 11, 18, tzinfo=UTC)


def test_deadline_after_ignores_a_holiday_on_a_weekend_or_outside_the_period():
    holidays = "2026-03-07\n2026-03-20"

    assert deadline_after(FRIDAY_EVENING, business(holidays), hours=24) == MONDAY_EVENING


def test_deadline_after_started_on_a_saturday_counts_from_monday_midnight():
    saturday = datetime(2026, 3, 7, 10, 30, tzinfo=UTC)

    assert deadline_after(saturday, business(), hours=8) == datetime(2026, 3, 9, 8, tzinfo=UTC)
    assert deadline_after(saturday, business(), hours=24) == datetime(2026, 3, 10, 0, tzinfo=UTC)


def test_deadline_after_started_on_a_holiday_counts_from_the_next_business_day():
    holiday_friday = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)

    assert deadline_after(holiday_friday, business("2026-03-06"), hours=10) == datetime(2026, 3, 9, 10, tzinfo=UTC)


def test_deadline_after_counts_days_as_whole_business_days():
    thursday_noon = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)

    # Thursday afternoon, Friday, Monday, Tuesday morning.
    assert deadline_after(thursday_noon, business(), days=3) == datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_deadline_after_within_a_business_day_is_plain_addition():
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    assert deadline_after(monday, business(), hours=5) == datetime(2026, 3, 2, 14, tzinfo=UTC)


def test_deadline_after_that_uses_up_friday_exactly_ends_at_friday_midnight():
    friday_morning = datetime(2026, 3, 6, 0, 0, tzinfo=UTC)

    assert deadline_after(friday_morning, business(), hours=24) == datetime(2026, 3, 7, 0, tzinfo=UTC)


def test_deadline_after_in_calendar_mode_counts_weekends_and_holidays():
    rules = calendar("2026-03-07\n2026-03-09")

    assert deadline_after(FRIDAY_EVENING, rules, hours=24) == datetime(2026, 3, 7, 18, tzinfo=UTC)
    assert deadline_after(FRIDAY_EVENING, rules, days=3) == MONDAY_EVENING


def test_deadline_after_in_utc_loses_no_hour_over_the_european_clock_change():
    friday = datetime(2026, 3, 27, 18, 0, tzinfo=UTC)
    monday = datetime(2026, 3, 30, 18, 0, tzinfo=UTC)

    assert deadline_after(friday, business(), hours=24) == monday
    assert deadline_after(friday, calendar(), hours=72) == monday
    assert monday - friday == timedelta(hours=72)


def test_deadline_after_starts_business_days_at_midnight_in_the_marketplace_time_zone(settings):
    # 23:30 UTC on Friday is already Saturday 00:30 in Amsterdam: nothing of it counts there.
    late_friday_utc = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)

    assert deadline_after(late_friday_utc, business(), hours=1) == datetime(2026, 3, 9, 0, 30, tzinfo=UTC)
    settings.TIME_ZONE = "Europe/Amsterdam"
    assert deadline_after(late_friday_utc, business(), hours=1) == datetime(2026, 3, 9, 1, 0, tzinfo=AMSTERDAM)


def test_deadline_after_over_a_clock_change_weekend_ends_at_the_same_local_time(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    friday = datetime(2026, 3, 27, 18, 0, tzinfo=AMSTERDAM)

    assert deadline_after(friday, business(), hours=24) == datetime(2026, 3, 30, 18, 0, tzinfo=AMSTERDAM)


def test_parse_holidays_reads_one_iso_date_per_line():
    assert parse_holidays(" 2026-12-25 # Christmas\n\n2026-01-01\n") == {
        datetime(2026, 12, 25).date(),
        datetime(2026, 1, 1).date(),
    }


INVALID_HOLIDAYS = ["2026-02-30", "next monday", "25/12/2026", "2026-12-25, 2026-12-26"]


@pytest.mark.django_db  # full_clean checks the slug is unique
@pytest.mark.parametrize("text", INVALID_HOLIDAYS)
def test_policy_full_clean_refuses_holiday_text_that_is_not_one_date_per_line(text):
    policy = Policy(slug="disputes", title="Disputes", kind=Policy.Kind.DISPUTES, body="Rules.", holidays=text)

    with pytest.raises(ValidationError) as excinfo:
        policy.full_clean()

    assert excinfo.value.message_dict == {"holidays": [HOLIDAY_MESSAGE]}


@pytest.mark.django_db
def test_policy_full_clean_accepts_holidays_with_comments_and_blank_lines():
    policy = Policy(
        slug="disputes",
        title="Disputes",
        kind=Policy.Kind.DISPUTES,
        body="Rules.",
        holidays="2026-12-25  # Christmas\n\n2026-12-26\n",
        auto_resolve_limit=Decimal(0),
    )

    policy.full_clean()


@pytest.mark.django_db
def test_policy_save_refuses_invalid_holidays_and_keeps_the_pinned_version(policy):
    policy.holidays = "next monday"

    with pytest.raises(ValidationError):
        policy_save(policy=policy, actor=None, reason="Typo")

    assert policy.history.count() == 1
    assert Policy.objects.get(pk=policy.pk).holidays == ""


@pytest.mark.django_db
def test_policy_admin_refuses_invalid_holidays_and_saves_no_version(client, admin_user):
    policy = factories.dispute_policy(count_business_days=True, holidays="2026-12-25")
    client.force_login(admin_user)

    response = client.post(
        f"/admin/policies/policy/{policy.pk}/change/",
        admin_form(policy, holidays="2026-12-25\n26 December", change_reason="Boxing day"),
    )

    assert response.status_code == 200
    assert HOLIDAY_MESSAGE in response.text
    policy = Policy.objects.get(pk=policy.pk)
    assert (policy.version, policy.holidays) == (1, "2026-12-25")
    assert policy.history.count() == 1


@pytest.mark.django_db
def test_policy_admin_saves_valid_holidays_as_a_new_version(client, admin_user):
    policy = factories.dispute_policy(count_business_days=True)
    client.force_login(admin_user)

    response = client.post(
        f"/admin/policies/policy/{policy.pk}/change/",
        admin_form(policy, holidays="2026-12-25\n2026-12-26", change_reason="Christmas"),
    )

    assert response.status_code == 302
    policy = Policy.objects.get(pk=policy.pk)
    assert (policy.version, parse_holidays(policy.holidays)) == (2, {datetime(2026, 12, d).date() for d in (25, 26)})
