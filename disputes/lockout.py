"""Sign-in throttling (django-axes): what a person sees around the lockout.

Axes counts failed sign-ins per username and address. The attempt that reaches the limit still
gets the sign-in form's own error; from the next attempt on, the pair is refused for the cool-off
(even with the right password) with a page that says when to try again.
"""

import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone


class DeskAxesHandler(AxesDatabaseHandler):
    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        refused_while_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is not None and not refused_while_locked:
            # This password was checked (and was wrong): answer with the form; the lock starts next time.
            request.axes_locked_out = False


def lockout_response(request, *_):
    """The lockout page (429 with Retry-After). Axes calls this with (request, response, credentials)
    under WSGI and (request, credentials) under ASGI; only the request is needed."""
    credentials = getattr(request, "axes_credentials", None)
    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request)
    last_failure = AccessAttempt.objects.filter(
        username=username, ip_address=getattr(request, "axes_ip_address", None)
    ).aggregate(last=Max("attempt_time"))["last"]
    until = (last_failure or timezone.now()) + cool_off
    seconds = max(0, math.ceil((until - timezone.now()).total_seconds()))
    response = render(
        request,
        "registration/locked_out.html",
        {"username": username, "until": until, "minutes": max(1, math.ceil(seconds / 60))},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
