"""Deadlines from the pinned policy rules, in calendar time or in business time.

In business time only weekdays that are not listed holidays count: 24 hours of business time
started on a Friday evening end on Monday evening. Days begin at midnight in the marketplace's
time zone (`settings.TIME_ZONE`).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from policies.models import parse_holidays


def deadline_after(start: datetime, rules, *, hours: float = 0, days: float = 0) -> datetime:
    """`start` plus a period, counted as the rules say (calendar or business time)."""
    period = timedelta(hours=hours, days=days)
    if not getattr(rules, "count_business_days", False):
        return start + period
    return add_business_time(start, period, holidays=parse_holidays(rules.holidays))


def add_business_time(start: datetime, period: timedelta, *, holidays: set[date]) -> datetime:
    zone = ZoneInfo(settings.TIME_ZONE)
    cursor = start.astimezone(zone)
    remaining = period
    while True:
        next_midnight = datetime.combine(cursor.date() + timedelta(days=1), time(0), tzinfo=zone)
        if is_business_day(cursor.date(), holidays):
            available = next_midnight - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
        cursor = next_midnight


def is_business_day(day: date, holidays: set[date]) -> bool:
    return day.weekday() < 5 and day not in holidays
