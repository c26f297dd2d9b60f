import zoneinfo
from urllib.parse import unquote

from django.contrib.auth import SESSION_KEY
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from disputes.backends import PERMISSIONS, person_topic
from disputes.cached import forget, reading_ahead, remembered
from disputes.models import Profile
from disputes.selectors.people import person_facts

TIME_ZONE_COOKIE = "tz"


class PersonFactsMiddleware:
    """Reads what a signed-in person's every page asks of the cache in one round trip, before
    anything asks: their row and permissions (loading them asks), their zone, their unread notices
    and whether they take assignments. One round trip a page instead of five."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user_id = request.session.get(SESSION_KEY)  # as the session keeps it: the user's pk as text
        if user_id is None:
            return self.get_response(request)
        facts = [(person_topic(user_id), ""), (PERMISSIONS, user_id), (_topic(user_id), ""), *person_facts(user_id)]
        with reading_ahead(facts):
            return self.get_response(request)


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
            name = remembered(_topic(request.user.pk), "", lambda: _saved_zone(request.user), seconds=3600)
        name = name or unquote(request.COOKIES.get(TIME_ZONE_COOKIE, ""))
        try:
            return zoneinfo.ZoneInfo(name) if name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None


def _saved_zone(user) -> str:
    return Profile.objects.filter(user=user).values_list("time_zone", flat=True).first() or ""


def _topic(user_id) -> str:
    return f"time_zone:{user_id}"


@receiver(post_save, sender=Profile, dispatch_uid="disputes.time_zone_saved")
@receiver(post_delete, sender=Profile, dispatch_uid="disputes.time_zone_deleted")
def _profile_changed(sender, instance, **kwargs):
    forget(_topic(instance.user_id))
