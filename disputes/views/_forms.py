"""What every page form shares: send once, map a domain refusal onto the form, unique ids."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from disputes.exceptions import AlreadySubmitted, DisputeError, InvalidInput
from disputes.ratelimits import RateLimited
from disputes.services.accounts import submission_once


def submit_once(request, form, write: Callable, *, done, redirect_to, on_error: Callable, aliases=None):
    """Validate, write once, and go to `redirect_to`; on a refusal, `on_error(form)` shows the page
    again with the reason on the form.

    `done` (the flash on success) and `redirect_to` may be callables of what `write` returned.
    A wrong actor (PermissionDenied) is not a form error: it propagates as a 403. Over a rate
    limit, the page comes back as 429 with the form as the person filled it.
    """
    if form.is_valid():
        try:
            with submission_once(user=request.user, token=form.cleaned_data["submission"]):
                result = write()
        except AlreadySubmitted:
            messages.info(request, "That was already sent.")
            return redirect(_resolve(redirect_to, None))
        except PermissionDenied:
            raise
        except DisputeError as error:
            form_errors(form, error, aliases=aliases)
        else:
            messages.success(request, _resolve(done, result))
            return redirect(_resolve(redirect_to, result))
    # A refusal may belong to a form the page no longer shows (a finished or not-yet-allowed action): say it here.
    messages.error(request, " ".join(form.non_field_errors()) or "That did not go through: see the message below.")
    return refused(on_error(form), form)


def refused(response, form):
    """The page showing a refused form again; 429 Too Many Requests when a rate limit refused it."""
    limited = getattr(form, "rate_limited", None)
    if limited is not None:
        response.status_code = 429
        response["Retry-After"] = str(limited.retry_after)
    return response


def form_errors(form, error: DisputeError, *, aliases=None) -> None:
    """Put a domain error on the form: on its field when the form has one, else on the form."""
    if isinstance(error, RateLimited):
        form.rate_limited = error  # for `refused`
    aliases = aliases or {}
    placed = False
    if isinstance(error, InvalidInput):
        for field, field_errors in error.errors.items():
            name = aliases.get(field, field)
            if name in form.fields:
                for text in field_errors:
                    form.add_error(name, text)
                placed = True
    if not placed:
        form.add_error(None, error.message)


def form_ids(form_key: str) -> str:
    """Element ids for one of a page's forms: several forms on a page share field names."""
    return f"{form_key}-%s"


def _resolve(value, result):
    return value(result) if callable(value) else value
