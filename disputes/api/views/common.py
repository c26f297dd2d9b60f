"""What the API's operations share: money fields, the documented error answers, the JSON 404,
and the shape of a write on one case."""

from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from disputes import selectors
from disputes.api.idempotency import idempotent
from disputes.api.serializers import ErrorSerializer, RefusalSerializer
from disputes.api.serializers_cases import CaseDetailSerializer

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


def case_detail(request, reference: str, *, status_code=status.HTTP_200_OK) -> Response:
    """The case as this user now sees it: what a write answers with."""
    case = selectors.case_get(user=request.user, reference=reference)
    return Response(CaseDetailSerializer(case, context={"request": request}).data, status=status_code)


class CaseWriteApi(APIView):
    """A POST on one case: the case as this user sees it (else 404), the body checked by
    `input_serializer` (else 400), `perform` (the service call), then the answer: what `perform`
    returns through `answer_serializer`, or by default the case as the user now sees it.

    An operation documents its POST with `@extend_schema_view(post=extend_schema(...))` on its
    class, which gives the class a `post` of its own to carry the schema."""

    input_serializer: type[serializers.Serializer]
    answer_serializer: type[serializers.Serializer] | None = None
    answer_many = False
    status_code = status.HTTP_200_OK

    @idempotent
    def post(self, request, reference):
        case = selectors.case_get(user=request.user, reference=reference)
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = self.perform(request, case, serializer.validated_data)
        if self.answer_serializer is None:
            return case_detail(request, reference, status_code=self.status_code)
        answer = self.answer_serializer(result, many=self.answer_many, context={"request": request, "case": case})
        return Response(answer.data, status=self.status_code)

    def perform(self, request, case, data: dict):
        raise NotImplementedError
