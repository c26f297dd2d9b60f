from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import avoid_wrapping, format_html
from django.utils.timesince import timesince
from django.utils.translation import ngettext

register = template.Library()


@register.simple_tag
def route(viewname):
    """`{% url viewname %}` for a route that takes no arguments, reversed once per process.

    Every page names a dozen such routes (the header's links, the queue's tabs), and reversing
    one costs about as much as rendering a row."""
    return _reversed(viewname, get_script_prefix(), get_urlconf())


@lru_cache(maxsize=256)
def _reversed(viewname, prefix, urlconf):
    return reverse(viewname, urlconf=urlconf)  # `prefix` only keys the cache: reverse() reads it itself


@receiver(setting_changed, dispatch_uid="desk.routes_changed")
def _routes_changed(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _reversed.cache_clear()


@register.simple_tag
def deadline(moment, now=None, zone=None):
    """A deadline in the viewer's zone with the time left ("in 2 days") or "passed".

    `now` and `zone`: the clock and the viewer's zone, when a page shows many (one for every row)."""
    if moment is None:
        return ""
    now = now or timezone.now()
    zone = zone or timezone.get_current_timezone()
    if moment > now:
        passed, left = "", f"in {_span(now, moment)}"
    else:
        passed, left = " passed", f"{_span(moment, now)} ago"
    return format_html(
        '<time datetime="{}" data-deadline>{}</time> <span class="left{}">{}</span>',
        moment.isoformat(),
        moment.astimezone(zone).strftime("%-d %b %Y, %H:%M %Z"),
        passed,
        left,
    )


# Spans under four weeks, counted as timesince counts them (its largest unit only).
_UNITS = [
    (7 * 24 * 3600, lambda n: ngettext("%(num)d week", "%(num)d weeks", n)),
    (24 * 3600, lambda n: ngettext("%(num)d day", "%(num)d days", n)),
    (3600, lambda n: ngettext("%(num)d hour", "%(num)d hours", n)),
    (60, lambda n: ngettext("%(num)d minute", "%(num)d minutes", n)),
]


def _span(earlier, later) -> str:
    """timesince(earlier, later, depth=1), e.g. "2 days", with its calendar arithmetic (months,
    leap years) only for spans that need it: a page of rows spent most of its deadline time there."""
    seconds = (later - earlier).total_seconds()
    if seconds >= 28 * 24 * 3600:
        return timesince(earlier, later, depth=1)
    for size, words in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return avoid_wrapping(words(count) % {"num": count})
    return avoid_wrapping(ngettext("%(num)d minute", "%(num)d minutes", 0) % {"num": 0})


@register.simple_tag
def when(moment):
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), local.strftime("%-d %b %Y, %H:%M %Z"))


@register.filter
def money(amount, currency=""):
    if amount is None:
        return ""
    return f"{amount:,.2f} {currency}".strip()


@register.filter
def duration(hours):
    """72 → "3 days", 36 → "36 hours"."""
    hours = int(hours)
    if hours and hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"
