"""`Idempotency-Key` on POSTs: a request sent again (a retry after a timeout) does its write once.

The key is stored in the same transaction as the write it carried, with the answer:

- the same key and the same request again → the first answer (status and body), replayed;
- the same key with another request (body, path or method) → 422;
- a request that failed stores nothing, so the client may send it again under the same key;
- two requests with one key at the same moment → one write: the second one's insert of the key
  waits on the unique index until the first commits, then finds the key and replays its answer.

Keys are per user; a key is 1 to 255 visible ASCII characters.
"""

import functools
import hashlib
import json
import re

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from disputes.api.exceptions import IdempotencyKeyReused
from disputes.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    pattern=KEY_PATTERN,
    description=(
        "Send the same key again to retry safely: the same key and body return the first answer; "
        "the same key with a different body is refused with 422. Any 1-255 visible ASCII characters "
        "(a UUID is a good choice)."
    ),
)


def idempotent(handler):
    """Wrap an API view's `post(self, request, ...)` so that it honours `Idempotency-Key`."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not re.fullmatch(KEY_PATTERN, key):
            raise ValidationError({HEADER: ["Use 1 to 255 visible ASCII characters."]})
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(user=request.user, key=key, fingerprint=fingerprint)
            except IntegrityError:
                # Committed by an earlier request (or one that was running and just committed).
                return _replay(IdempotencyKey.objects.get(user=request.user, key=key), fingerprint)
            response = handler(view, request, *args, **kwargs)  # an exception rolls the key back
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            record.response_location = response.get("Location", "")[:500]
            record.save(update_fields=["response_status", "response_body", "response_location"])
            return response

    return wrapper


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    headers = {REPLAYED_HEADER: "true"}
    if record.response_location:
        headers["Location"] = record.response_location
    return Response(record.response_body, status=record.response_status, headers=headers)


def request_fingerprint(request) -> str:
    """SHA-256 of the method, the path and the parsed body (files by their content), so the same
    request hashes the same whatever the key order or spacing of its JSON."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(json.dumps(_canonical(request.data), sort_keys=True, cls=JSONEncoder).encode())
    return digest.hexdigest()


def _canonical(data):
    if hasattr(data, "lists"):  # a QueryDict (multipart or form): every value of every field
        return {name: [_canonical(value) for value in values] for name, values in data.lists()}
    if isinstance(data, dict):
        return {str(name): _canonical(value) for name, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_canonical(value) for value in data]
    if isinstance(data, UploadedFile):
        file_digest = hashlib.sha256()
        for chunk in data.chunks():
            file_digest.update(chunk)
        data.seek(0)
        return {"file": data.name, "sha256": file_digest.hexdigest()}
    return data
