"""The one place the API turns errors into answers.

Every error body has `detail` (a sentence for a person) and `code` (for a program); invalid
input adds `errors` (field → messages), and a refused transition adds the case's `state`, the
`action` asked for and the `allowed_actions` this user has now:

    400  invalid input            {"detail", "code": "invalid", "errors": {...}}
    401  no or bad credentials    {"detail", "code": "not_authenticated" | "authentication_failed"}
    403  not yours to do          {"detail", "code": "permission_denied"}
    404  not there, or not yours  {"detail", "code": "not_found"}
    409  refused by the case      {"detail", "code": "transition_refused" | "case_changed", "state", ...}
    422  Idempotency-Key reused   {"detail", "code": "idempotency_key_reused"}
    429  over a rate limit        {"detail", "code": "rate_limited", "retry_after"} and a Retry-After header
"""

from django.db import DataError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from disputes.exceptions import CaseChanged, DisputeError, InvalidInput, TransitionRefused
from disputes.ratelimits import RateLimited

NON_FIELD = "non_field_errors"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_reused"


def api_exception_handler(exc, context):
    if isinstance(exc, TransitionRefused):
        return Response(
            {
                "detail": exc.message,
                "code": "case_changed" if isinstance(exc, CaseChanged) else "transition_refused",
                "state": exc.state,
                "action": exc.action,
                "allowed_actions": list(exc.allowed_actions),
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, InvalidInput):
        return Response(
            {"detail": exc.message, "code": "invalid", "errors": field_errors(exc.errors)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DataError):  # a value the database cannot hold (e.g. NUL in a query parameter)
        return Response(
            {"detail": "The request holds a value that cannot be stored.", "code": "invalid", "errors": {}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, RateLimited):
        return Response(
            {"detail": exc.message, "code": "rate_limited", "retry_after": exc.retry_after},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, DisputeError):  # any other refusal the desk explains (e.g. sent twice)
        return Response({"detail": exc.message, "code": "conflict"}, status=status.HTTP_409_CONFLICT)

    response = drf_exception_handler(exc, context)  # Http404, PermissionDenied, APIException
    if response is None:
        return None  # a bug: Django's 500 handling takes over
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "The request is not valid.", "code": "invalid", "errors": field_errors(exc.detail)}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data.get("detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": str(code)}
    return response


def field_errors(errors) -> dict[str, list[str]]:
    """Flatten DRF's or a service's errors to {"field": ["message", ...]}; nested fields are dotted
    ("files.0") and errors about the whole request are under "non_field_errors"."""
    flat: dict[str, list[str]] = {}

    def walk(value, key: str) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                name = str(name)
                walk(inner, key if name in ("__all__", NON_FIELD) else (f"{key}.{name}" if key else name))
        elif isinstance(value, (list, tuple)) and any(isinstance(item, (dict, list, tuple)) for item in value):
            for index, item in enumerate(value):
                walk(item, f"{key}.{index}" if key else str(index))
        else:
            messages = value if isinstance(value, (list, tuple)) else [value]
            flat.setdefault(key or NON_FIELD, []).extend(str(message) for message in messages)

    walk(errors, "")
    return flat
