"""The API's operations: one class each, with its input (and any output of its own) nested.

Each parses input, makes one service or selector call, and renders; the services hold every
rule and refusal, and `disputes.api.exceptions` turns those into answers. Where two operations
share a URL (GET and POST on /cases/), the URL's class is made of the two operation classes.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from disputes import selectors, services
from disputes.api import selectors as api_selectors
from disputes.api.filters import CaseFilter, NewestFirstPagination, OrderFilter
from disputes.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from disputes.api.parsers import StorableMultiPartParser
from disputes.api.permissions import IsServiceAccount, PeopleActOnCases, ServiceAccountWritesOrders
from disputes.api.serializers import (
    ErrorSerializer,
    EvidenceSerializer,
    HistoryEntrySerializer,
    MessageSerializer,
    OrderSerializer,
    RefusalSerializer,
)
from disputes.api.serializers_cases import CASE_ROW_COLUMNS, CaseDetailSerializer, CaseSerializer, case_rows
from disputes.downloads import evidence_response
from disputes.exceptions import InvalidInput
from disputes.models import Currency, Evidence, Message, Order, Outcome, Reason, Remedy
from disputes.services.conversation import evidence_add, message_post
from disputes.services.orders import order_record_shipment, order_sync

User = get_user_model()

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


def _case_detail(request, reference: str, *, status_code=status.HTTP_200_OK, headers=None) -> Response:
    """The case as this user now sees it: what a write answers with."""
    case = selectors.case_get(user=request.user, reference=reference)
    return Response(CaseDetailSerializer(case, context={"request": request}).data, status=status_code, headers=headers)


# Orders


class OrderListApi(generics.ListAPIView):
    """The orders this user may see: all for agents and the service account, else their own."""

    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return selectors.order_list(user=self.request.user)

    @extend_schema(summary="List orders", responses={200: OrderSerializer(many=True), **errors(400, 401, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrderDetailApi(APIView):
    @extend_schema(
        summary="Get an order",
        description="An order this user may see (agents and the service account: any), by its external id.",
        responses={200: OrderSerializer, **errors(401, 404)},
    )
    def get(self, request, external_id):
        order = selectors.order_get(user=request.user, external_id=external_id)
        return Response(OrderSerializer(order, context={"request": request}).data)


class OrderUpsertApi(APIView):
    """The marketplace pushes an order, created or replaced whole by its external id."""

    @extend_schema_serializer(component_name="OrderUpsertInput")
    class InputSerializer(serializers.Serializer):
        buyer = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.filter(is_active=True), help_text="The buyer's username."
        )
        seller = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.filter(is_active=True), help_text="The seller's username."
        )
        item_title = serializers.CharField(max_length=200)
        quantity = serializers.IntegerField(min_value=1, max_value=2_147_483_647, default=1)
        amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
        currency = serializers.ChoiceField(choices=Currency.choices)
        status = serializers.ChoiceField(choices=Order.Status.choices, default=Order.Status.PAID)
        carrier = serializers.CharField(max_length=100, allow_blank=True, default="")
        tracking_number = serializers.CharField(max_length=100, allow_blank=True, default="")
        placed_at = serializers.DateTimeField()
        shipped_at = serializers.DateTimeField(allow_null=True, default=None)
        delivered_at = serializers.DateTimeField(allow_null=True, default=None)

    @extend_schema(
        summary="Create or replace an order (service account)",
        examples=[
            OpenApiExample(
                "A delivered order",
                request_only=True,
                value={
                    "buyer": "buyer",
                    "seller": "seller",
                    "item_title": "Walnut desk lamp",
                    "quantity": 1,
                    "amount": "80.00",
                    "currency": "EUR",
                    "status": "delivered",
                    "carrier": "DHL",
                    "tracking_number": "JD014600001001",
                    "placed_at": "2026-03-01T10:00:00Z",
                    "shipped_at": "2026-03-02T09:00:00Z",
                    "delivered_at": "2026-03-04T15:30:00Z",
                },
            )
        ],
        description="The whole order, by the marketplace's id: 201 when it is new, 200 when it replaced "
        "the mirror. Its buyer and seller never change once it exists.",
        request=InputSerializer,
        responses={
            200: OpenApiResponse(OrderSerializer, description="Updated."),
            201: OpenApiResponse(OrderSerializer, description="Created."),
            **errors(400, 401, 403),
        },
    )
    def put(self, request, external_id):
        try:  # the id in the path: 64 characters at most, like the order's
            serializers.CharField(max_length=64).run_validation(external_id)
        except ValidationError as error:
            raise ValidationError({"external_id": error.detail}) from None
        serializer = OrderUpsertApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order, created = order_sync(external_id=external_id, actor=request.user, **serializer.validated_data)
        return Response(
            OrderSerializer(order, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class OrderApi(OrderUpsertApi, OrderDetailApi):
    """/orders/{external_id}/: GET reads (OrderDetailApi), PUT upserts (OrderUpsertApi)."""

    permission_classes = [IsAuthenticated, ServiceAccountWritesOrders]


class OrderShipmentApi(APIView):
    """The marketplace says where the parcel is; what it leaves out stays as it was."""

    permission_classes = [IsAuthenticated, IsServiceAccount]

    @extend_schema_serializer(component_name="ShipmentInput")
    class InputSerializer(serializers.Serializer):
        carrier = serializers.CharField(max_length=100, required=False)
        tracking_number = serializers.CharField(max_length=100, required=False)
        shipped_at = serializers.DateTimeField(required=False)
        delivered_at = serializers.DateTimeField(required=False)

        def validate(self, data):
            if not data:
                raise serializers.ValidationError(
                    "Send at least one of carrier, tracking_number, shipped_at, delivered_at."
                )
            return data

    @extend_schema(
        summary="Record a shipment update (service account)",
        examples=[
            OpenApiExample(
                "Handed to the carrier",
                request_only=True,
                value={"carrier": "DHL", "tracking_number": "JD014600001002"},
            )
        ],
        request=InputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: OrderSerializer, **errors(400, 401, 403, 404, 422)},
    )
    @idempotent
    def post(self, request, external_id):
        serializer = OrderShipmentApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = selectors.order_get(user=request.user, external_id=external_id)
        order = order_record_shipment(order=order, actor=request.user, **serializer.validated_data)
        return Response(OrderSerializer(order, context={"request": request}).data)


# Cases


class CaseListApi(generics.ListAPIView):
    """The cases this user may see (agents and the service account: all), newest first."""

    serializer_class = CaseSerializer  # what a row gives, for the schema; case_rows builds it
    filterset_class = CaseFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        # What a row shows and no more, as plain values: no model instances to build, and only
        # the joins and columns a row reads.
        return selectors.case_list(user=self.request.user).values(*CASE_ROW_COLUMNS)

    def filter_queryset(self, queryset):
        # Most reads ask for no filter: then there is nothing to check, and no filter form to build.
        if not any(name in self.request.query_params for name in CaseFilter.base_filters):
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(case_rows(page, request=request))

    @extend_schema(
        summary="List cases",
        description="The cases this user may see (agents and the service account: all; people: theirs, "
        "as buyer or seller), newest first, a cursor page at a time.",
        responses={200: CaseSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CaseFileApi(APIView):
    """The buyer opens a case on one of their orders."""

    @extend_schema_serializer(component_name="CaseFileInput")
    class InputSerializer(serializers.Serializer):
        order = serializers.CharField(max_length=64, help_text="The external id of one of your orders.")
        reason = serializers.ChoiceField(choices=Reason.choices)
        requested_outcome = serializers.ChoiceField(choices=Remedy.choices)
        amount_claimed = serializers.DecimalField(**MONEY)
        description = serializers.CharField(max_length=5000)

    @extend_schema(
        summary="File a case",
        examples=[
            OpenApiExample(
                "A damaged item",
                request_only=True,
                value={
                    "order": "MP-1002",
                    "reason": "damaged",
                    "requested_outcome": "partial_refund",
                    "amount_claimed": "30.00",
                    "description": "The lamp arrived with a cracked shade.",
                },
            )
        ],
        description="The buyer opens a case on one of their orders, under the dispute policy in force now.",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: CaseDetailSerializer, **errors(400, 401, 403, 422, 429)},
    )
    @idempotent
    def post(self, request):
        serializer = CaseFileApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = selectors.order_list(user=request.user).filter(buyer=request.user, external_id=data["order"]).first()
        if order is None:
            raise ValidationError({"order": ["You have no order with this id."]})
        case = services.case_file(
            buyer=request.user,
            order=order,
            reason=data["reason"],
            requested_outcome=data["requested_outcome"],
            amount_claimed=data["amount_claimed"],
            description=data["description"],
        )
        response = _case_detail(request, case.reference, status_code=status.HTTP_201_CREATED)
        response["Location"] = response.data["url"]
        return response


class CasesApi(CaseFileApi, CaseListApi):
    """/cases/: GET lists (CaseListApi), POST files (CaseFileApi)."""

    permission_classes = [IsAuthenticated, PeopleActOnCases]


class CaseDetailApi(APIView):
    @extend_schema(
        summary="Get a case",
        description="With its deadlines, offers, decisions, refunds and `actions`: the transitions this "
        "user may fire now, from the state machine.",
        responses={200: CaseDetailSerializer, **errors(401, 404)},
    )
    def get(self, request, reference):
        return _case_detail(request, reference)


# What a transition takes, by name, with the default the service gets when it is left out; a
# transition not named here takes nothing. The services check every value.
TRANSITION_PARAMS = {
    "make_offer": {"kind": "", "amount": None, "note": "", "return_address": ""},
    "decline_claim": {"note": ""},
    "decline_offer": {"note": ""},
    "escalate": {"note": ""},
    "withdraw": {"note": ""},
    "appeal": {"grounds": ""},
    "decide": {"outcome": "", "amount": None, "rationale": ""},
    "decide_appeal": {"outcome": "", "amount": None, "rationale": ""},
}
# The services name a decision's outcome `kind` in their errors; the API calls it `outcome`.
ERROR_ALIASES = {"decide": {"kind": "outcome"}, "decide_appeal": {"kind": "outcome"}}


class CaseTransitionApi(APIView):
    """Fire one transition of the case's state machine, by name, through its service."""

    permission_classes = [IsAuthenticated, PeopleActOnCases]

    @extend_schema_serializer(component_name="TransitionInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.ChoiceField(
            choices=sorted(services.TRANSITION_SERVICES), help_text="One of the case's `actions`."
        )
        kind = serializers.ChoiceField(choices=Outcome.choices, required=False, help_text="make_offer: the remedy.")
        amount = serializers.DecimalField(
            **MONEY, required=False, allow_null=True, help_text="make_offer, decide, decide_appeal: a refund amount."
        )
        note = serializers.CharField(
            max_length=1000,
            required=False,
            allow_blank=True,
            help_text="make_offer, decline_claim, decline_offer, escalate, withdraw: a note.",
        )
        return_address = serializers.CharField(
            max_length=1000, required=False, allow_blank=True, help_text="make_offer with a return."
        )
        grounds = serializers.CharField(max_length=2000, required=False, allow_blank=True, help_text="appeal: why.")
        outcome = serializers.ChoiceField(
            choices=Outcome.choices, required=False, help_text="decide, decide_appeal: the outcome."
        )
        rationale = serializers.CharField(
            max_length=5000, required=False, allow_blank=True, help_text="decide, decide_appeal: the policy reasons."
        )

    @extend_schema(
        summary="Fire a transition",
        examples=[
            OpenApiExample(
                "The seller offers a partial refund",
                request_only=True,
                value={"name": "make_offer", "kind": "partial_refund", "amount": "20.00", "note": "Sorry about that."},
            ),
            OpenApiExample(
                "The seller declines the claim",
                request_only=True,
                value={"name": "decline_claim", "note": "The lamp left here intact."},
            ),
            OpenApiExample("The buyer withdraws", request_only=True, value={"name": "withdraw"}),
        ],
        description='`{"name": <one of the case\'s actions>, ...its parameters}`. A transition the case '
        "does not allow now is refused with 409, naming the state and the allowed actions; one that is "
        "not this user's to fire is 403.",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, reference):
        case = selectors.case_get(user=request.user, reference=reference)
        serializer = CaseTransitionApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        name = data["name"]
        params = {param: data.get(param, default) for param, default in TRANSITION_PARAMS.get(name, {}).items()}
        try:
            services.case_transition(case=case, actor=request.user, name=name, **params)
        except InvalidInput as error:
            aliases = ERROR_ALIASES.get(name, {})
            error.errors = {aliases.get(field, field): messages for field, messages in error.errors.items()}
            raise
        return _case_detail(request, reference)


class ReturnShipmentApi(APIView):
    """The buyer says the item is on its way back."""

    permission_classes = [IsAuthenticated, PeopleActOnCases]

    @extend_schema_serializer(component_name="ReturnShipmentInput")
    class InputSerializer(serializers.Serializer):
        carrier = serializers.CharField(max_length=100)
        tracking_number = serializers.CharField(max_length=100)

    @extend_schema(
        summary="Send the item back",
        examples=[
            OpenApiExample(
                "Sent back", request_only=True, value={"carrier": "DHL", "tracking_number": "JD014600009999"}
            )
        ],
        request=InputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, reference):
        case = selectors.case_get(user=request.user, reference=reference)
        serializer = ReturnShipmentApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.case_mark_return_shipped(case=case, buyer=request.user, **serializer.validated_data)
        return _case_detail(request, reference)


class ProposalAnswerApi(APIView):
    """A party accepts or rejects the agent's proposal; when both accept, it is the outcome."""

    permission_classes = [IsAuthenticated, PeopleActOnCases]

    @extend_schema_serializer(component_name="ProposalAnswerInput")
    class InputSerializer(serializers.Serializer):
        answer = serializers.ChoiceField(choices=["accept", "reject"])

    @extend_schema(
        summary="Answer the agent's proposal",
        examples=[OpenApiExample("Accept", request_only=True, value={"answer": "accept"})],
        request=InputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, reference):
        case = selectors.case_get(user=request.user, reference=reference)
        serializer = ProposalAnswerApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.proposal_answer(case=case, party=request.user, accept=serializer.validated_data["answer"] == "accept")
        return _case_detail(request, reference)


class CaseHistoryApi(APIView):
    @extend_schema(
        summary="The case's history",
        description="Every saved change, oldest first: when, who, why, and the state after it.",
        responses={200: HistoryEntrySerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, reference):
        case = selectors.case_get(user=request.user, reference=reference)
        rows = api_selectors.case_history(case=case)
        return Response(HistoryEntrySerializer(rows, many=True, context={"request": request, "case": case}).data)


# Messages and evidence


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


class MessagePostApi(APIView):
    @extend_schema_serializer(component_name="MessageInput")
    class InputSerializer(serializers.Serializer):
        body = serializers.CharField(max_length=Message.MAX_LENGTH)
        internal = serializers.BooleanField(default=False, help_text="An internal note (agents only).")

    @extend_schema(
        summary="Write on the case",
        examples=[OpenApiExample("A message", request_only=True, value={"body": "Any news on my refund?"})],
        description="A message to the other party and our team; agents may write internal notes.",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: MessageSerializer, **errors(400, 401, 403, 404, 409, 422, 429)},
    )
    @idempotent
    def post(self, request, reference):
        case = selectors.case_get(user=request.user, reference=reference)
        serializer = MessagePostApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = message_post(
            case=case,
            author=request.user,
            body=serializer.validated_data["body"],
            internal=serializer.validated_data["internal"],
        )
        context = {"request": request, "case": case}
        return Response(MessageSerializer(message, context=context).data, status=status.HTTP_201_CREATED)


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


class EvidenceAddApi(APIView):
    @extend_schema_serializer(component_name="EvidenceInput")
    class InputSerializer(serializers.Serializer):
        files = serializers.ListField(
            child=serializers.FileField(max_length=255), help_text="JPEG, PNG, WebP or PDF; one bad file adds none."
        )
        description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(
        summary="Add evidence (multipart)",
        description="One or more files in `files`; every file is checked, and one bad file adds none.",
        request={"multipart/form-data": InputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: EvidenceSerializer(many=True), **errors(400, 401, 403, 404, 409, 422, 429)},
    )
    @idempotent
    def post(self, request, reference):
        case = selectors.case_get(user=request.user, reference=reference)
        serializer = EvidenceAddApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stored = evidence_add(
            case=case,
            uploader=request.user,
            files=serializer.validated_data["files"],
            description=serializer.validated_data["description"],
        )
        context = {"request": request, "case": case}
        return Response(EvidenceSerializer(stored, many=True, context=context).data, status=status.HTTP_201_CREATED)


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


def endpoint_not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "There is no such endpoint.", "code": "not_found"}, status=404)
