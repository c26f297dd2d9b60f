import zoneinfo
from urllib.parse import unquote

from django.utils import timezone

from disputes.models import Profile

TIME_ZONE_COOKIE = "tz"


class TimezoneMiddleware:
    """Show times in the person's zone: their setting, else the zone their browser reports."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = self._zone_for(request)
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)

    def _zone_for(self, request):
        name = ""
        if request.user.is_authenticated:
            name = Profile.objects.filter(user=request.user).values_list("time_zone", flat=True).first() or ""
        name = name or unquote(request.COOKIES.get(TIME_ZONE_COOKIE, ""))
        try:
            return zoneinfo.ZoneInfo(name) if name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None
