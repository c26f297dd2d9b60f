"""Orders: the marketplace's mirror, listed, read, upserted and shipped."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from disputes import selectors
from disputes.api.filters import NewestFirstPagination, OrderFilter
from disputes.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from disputes.api.permissions import IsServiceAccount, ServiceAccountWritesOrders
from disputes.api.serializers import OrderSerializer
from disputes.api.views.common import MONEY, errors
from disputes.models import Currency, Order
from disputes.services.orders import order_record_shipment, order_sync

User = get_user_model()


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
