"""Cases: list and file, detail, transitions, the return shipment, the proposal answer, history."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from disputes import selectors, services
from disputes.api import selectors as api_selectors
from disputes.api.filters import CaseFilter, NewestFirstPagination
from disputes.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from disputes.api.permissions import PeopleActOnCases
from disputes.api.serializers import HistoryEntrySerializer
from disputes.api.serializers_cases import (
    CASE_ROW_COLUMNS,
    CaseDetailSerializer,
    CaseSerializer,
    case_row_values,
    case_rows,
)
from disputes.api.views.common import MONEY, CaseWriteApi, case_detail, errors
from disputes.exceptions import InvalidInput
from disputes.models import Outcome, Reason, Remedy


class CaseListApi(generics.ListAPIView):
    """The cases this user may see (agents and the service account: all), newest first."""

    serializer_class = CaseSerializer  # what a row gives, for the schema; case_rows builds it
    filterset_class = CaseFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        # What a row shows and no more, as plain values: no model instances to build, and only
        # the joins and columns a row reads.
        return selectors.case_list(user=self.request.user).values(*CASE_ROW_COLUMNS, **case_row_values())

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
        response = case_detail(request, case.reference, status_code=status.HTTP_201_CREATED)
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
        return case_detail(request, reference)


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


class TransitionInput(serializers.Serializer):
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


@extend_schema_view(
    post=extend_schema(
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
        request=TransitionInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404, 409, 422)},
    )
)
class CaseTransitionApi(CaseWriteApi):
    """Fire one transition of the case's state machine, by name, through its service."""

    permission_classes = [IsAuthenticated, PeopleActOnCases]
    input_serializer = TransitionInput

    def perform(self, request, case, data):
        name = data["name"]
        params = {param: data.get(param, default) for param, default in TRANSITION_PARAMS.get(name, {}).items()}
        try:
            services.case_transition(case=case, actor=request.user, name=name, **params)
        except InvalidInput as error:
            aliases = ERROR_ALIASES.get(name, {})
            error.errors = {aliases.get(field, field): messages for field, messages in error.errors.items()}
            raise


class ReturnShipmentInput(serializers.Serializer):
    carrier = serializers.CharField(max_length=100)
    tracking_number = serializers.CharField(max_length=100)


@extend_schema_view(
    post=extend_schema(
        summary="Send the item back",
        examples=[
            OpenApiExample(
                "Sent back", request_only=True, value={"carrier": "DHL", "tracking_number": "JD014600009999"}
            )
        ],
        request=ReturnShipmentInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404, 409, 422)},
    )
)
class ReturnShipmentApi(CaseWriteApi):
    """The buyer says the item is on its way back."""

    permission_classes = [IsAuthenticated, PeopleActOnCases]
    input_serializer = ReturnShipmentInput

    def perform(self, request, case, data):
        services.case_mark_return_shipped(case=case, buyer=request.user, **data)


class ProposalAnswerInput(serializers.Serializer):
    answer = serializers.ChoiceField(choices=["accept", "reject"])


@extend_schema_view(
    post=extend_schema(
        summary="Answer the agent's proposal",
        examples=[OpenApiExample("Accept", request_only=True, value={"answer": "accept"})],
        request=ProposalAnswerInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404, 409, 422)},
    )
)
class ProposalAnswerApi(CaseWriteApi):
    """A party accepts or rejects the agent's proposal; when both accept, it is the outcome."""

    permission_classes = [IsAuthenticated, PeopleActOnCases]
    input_serializer = ProposalAnswerInput

    def perform(self, request, case, data):
        services.proposal_answer(case=case, party=request.user, accept=data["answer"] == "accept")


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
