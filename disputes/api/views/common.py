"""What the API's operations share: money fields, the documented error answers, the JSON 404."""

from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse

from disputes.api.serializers import ErrorSerializer, RefusalSerializer

MONEY = {"max_digits": 12, "decimal_places": 2}

ERROR_TEXT = {
    400: "Invalid input: `errors` names the fields.",
    401: "No credentials, or wrong ones.",
    403: "Not allowed to do this (or a missing CSRF token with the session).",
    404: "No such record, or not one this user may see.",
    409: "Refused by the case: `state` and `allowed_actions` say what is possible now.",
    422: "This Idempotency-Key was already used for a different request.",
    429: "Over this user's rate limit: wait the seconds in `Retry-After` (also `retry_after`).",
}


def errors(*codes: int) -> dict:
    """The error answers an operation documents (shapes: disputes.api.exceptions)."""
    return {
        code: OpenApiResponse(RefusalSerializer if code == 409 else ErrorSerializer, description=ERROR_TEXT[code])
        for code in codes
    }


def endpoint_not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "There is no such endpoint.", "code": "not_found"}, status=404)
