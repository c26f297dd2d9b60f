"""The case's conversation: messages and evidence."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from disputes import selectors
from disputes.api import selectors as api_selectors
from disputes.api.idempotency import IDEMPOTENCY_PARAMETER
from disputes.api.parsers import StorableMultiPartParser
from disputes.api.permissions import PeopleActOnCases
from disputes.api.serializers import EvidenceSerializer, MessageSerializer
from disputes.api.views.common import CaseWriteApi, errors
from disputes.downloads import evidence_response
from disputes.models import Evidence, Message
from disputes.services.conversation import evidence_add, message_post


class MessageListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        after = serializers.IntegerField(min_value=0, max_value=2**63 - 1, default=0)

    @extend_schema(
        summary="List the case's messages",
        description="Oldest first. Internal notes only for agents. `after`: only messages after this id "
        "(what a client that reconnects missed).",
        parameters=[OpenApiParameter("after", OpenApiTypes.INT64, description="Only messages with a larger id.")],
        responses={200: MessageSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request, reference):
        case = selectors.case_get(user=request.user, reference=reference)
        filters = MessageListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        messages = selectors.message_list_after(case=case, user=request.user, after_id=filters.validated_data["after"])
        return Response(MessageSerializer(messages, many=True, context={"request": request, "case": case}).data)


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=Message.MAX_LENGTH)
    internal = serializers.BooleanField(default=False, help_text="An internal note (agents only).")


@extend_schema_view(
    post=extend_schema(
        summary="Write on the case",
        examples=[OpenApiExample("A message", request_only=True, value={"body": "Any news on my refund?"})],
        description="A message to the other party and our team; agents may write internal notes.",
        request=MessageInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: MessageSerializer, **errors(400, 401, 403, 404, 409, 422, 429)},
    )
)
class MessagePostApi(CaseWriteApi):
    input_serializer = MessageInput
    answer_serializer = MessageSerializer
    status_code = status.HTTP_201_CREATED

    def perform(self, request, case, data):
        return message_post(case=case, author=request.user, body=data["body"], internal=data["internal"])


class CaseMessagesApi(MessagePostApi, MessageListApi):
    """/cases/{reference}/messages/: GET lists (MessageListApi), POST writes (MessagePostApi)."""

    permission_classes = [IsAuthenticated, PeopleActOnCases]


class EvidenceListApi(APIView):
    @extend_schema(
        summary="List the case's evidence",
        description="Photos and documents the parties and agents added, oldest first.",
        responses={200: EvidenceSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, reference):
        case = selectors.case_get(user=request.user, reference=reference)
        evidence = api_selectors.evidence_list(case=case)
        return Response(EvidenceSerializer(evidence, many=True, context={"request": request, "case": case}).data)


class EvidenceInput(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(max_length=255), help_text="JPEG, PNG, WebP or PDF; one bad file adds none."
    )
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


@extend_schema_view(
    post=extend_schema(
        summary="Add evidence (multipart)",
        description="One or more files in `files`; every file is checked, and one bad file adds none.",
        request={"multipart/form-data": EvidenceInput},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: EvidenceSerializer(many=True), **errors(400, 401, 403, 404, 409, 422, 429)},
    )
)
class EvidenceAddApi(CaseWriteApi):
    input_serializer = EvidenceInput
    answer_serializer = EvidenceSerializer
    answer_many = True
    status_code = status.HTTP_201_CREATED

    def perform(self, request, case, data):
        return evidence_add(case=case, uploader=request.user, files=data["files"], description=data["description"])


class CaseEvidenceApi(EvidenceAddApi, EvidenceListApi):
    """/cases/{reference}/evidence/: GET lists (EvidenceListApi), POST adds (EvidenceAddApi)."""

    permission_classes = [IsAuthenticated, PeopleActOnCases]

    def get_parsers(self):
        # Files come as multipart; the listing has no body.
        return [StorableMultiPartParser()]


class EvidenceFileApi(APIView):
    @extend_schema(
        summary="Download an evidence file",
        responses={
            (200, kind): OpenApiResponse(OpenApiTypes.BINARY, description="The file as it was uploaded.")
            for kind in Evidence.Kind.values
        }
        | errors(401, 404),
    )
    def get(self, request, reference, pk):
        return evidence_response(selectors.evidence_get(user=request.user, reference=reference, pk=pk))
