from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

register = template.Library()


@register.simple_tag
def deadline(moment, now=None):
    """A deadline in the viewer's zone with the time left ("in 2 days") or "passed".

    `now`: the time to count from, when a page shows many (one clock for every row)."""
    if moment is None:
        return ""
    now = now or timezone.now()
    if moment > now:
        passed, left = "", f"in {timeuntil(moment, now, depth=1)}"
    else:
        passed, left = " passed", f"{timesince(moment, now, depth=1)} ago"
    return format_html(
        '<time datetime="{}" data-deadline>{}</time> <span class="left{}">{}</span>',
        moment.isoformat(),
        timezone.localtime(moment).strftime("%-d %b %Y, %H:%M %Z"),
        passed,
        left,
    )


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
