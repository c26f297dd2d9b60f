"""The deadline tag: the time left or passed, as Django's timesince words it, in the viewer's zone."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from disputes.templatetags.desk import deadline

NOW = datetime(2026, 2, 27, 10, 30, tzinfo=UTC)
SPANS = [
    timedelta(0),
    timedelta(seconds=59),
    timedelta(minutes=1),
    timedelta(minutes=59, seconds=59),
    timedelta(hours=1),
    timedelta(hours=23, minutes=59),
    timedelta(days=1),
    timedelta(days=6, hours=23),
    timedelta(days=7),
    timedelta(days=13),
    timedelta(days=27, hours=23, minutes=59),
    timedelta(days=28),
    timedelta(days=31),
    timedelta(days=59),
    timedelta(days=366),
    timedelta(days=800),
]


def left_of(html: str) -> str:
    return re.search(r'<span class="left[^"]*">(.*)</span>', html).group(1)


@pytest.mark.parametrize("span", SPANS, ids=str)
def test_time_left_is_worded_as_timeuntil(span):
    due = NOW + span + timedelta(microseconds=1)

    assert left_of(deadline(due, now=NOW)) == f"in {timeuntil(due, NOW, depth=1)}"


@pytest.mark.parametrize("span", SPANS, ids=str)
def test_time_passed_is_worded_as_timesince(span):
    due = NOW - span

    html = deadline(due, now=NOW)

    assert left_of(html) == f"{timesince(due, NOW, depth=1)} ago"
    assert 'class="left passed"' in html


def test_shown_in_the_viewers_zone_with_the_exact_moment_for_scripts():
    due = datetime(2026, 3, 1, 23, 15, tzinfo=UTC)

    with timezone.override(ZoneInfo("Asia/Tokyo")):
        html = deadline(due, now=NOW)

    assert "2 Mar 2026, 08:15 JST" in html
    assert 'datetime="2026-03-01T23:15:00+00:00"' in html
    assert left_of(html) == "in 2\xa0days"
