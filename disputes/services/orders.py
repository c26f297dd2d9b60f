"""Orders as the marketplace pushes them in: upserted by their external id, shipments recorded.

The marketplace owns its orders; the desk keeps a mirror with its history. Who bought and who
sold never change once an order exists, because its cases hang on them.
"""

from datetime import datetime

from django.db import IntegrityError, transaction

from disputes.exceptions import InvalidInput
from disputes.models import Order
from disputes.services._common import save_with_history, validate


def order_sync(*, external_id: str, actor, buyer, seller, **fields) -> tuple[Order, bool]:
    """Create or replace the mirror of one marketplace order; returns it and whether it is new.

    Two pushes of a new order at the same moment make one order: the second one to reach the
    database updates what the first created.
    """
    try:
        return _order_sync(external_id=external_id, actor=actor, buyer=buyer, seller=seller, **fields)
    except IntegrityError:
        pass
    except InvalidInput as error:
        if "external_id" not in error.errors:
            raise
    return _order_sync(external_id=external_id, actor=actor, buyer=buyer, seller=seller, **fields)


@transaction.atomic
def _order_sync(*, external_id: str, actor, buyer, seller, **fields) -> tuple[Order, bool]:
    existing = Order.objects.select_for_update().filter(external_id=external_id).first()
    if existing is not None:
        errors = {}
        if existing.buyer_id != buyer.pk:
            errors["buyer"] = ["The buyer of an order does not change."]
        if existing.seller_id != seller.pk:
            errors["seller"] = ["The seller of an order does not change."]
        if errors:
            raise InvalidInput("The order's parties do not change.", errors=errors)
    _check_times(
        placed_at=fields.get("placed_at"), shipped_at=fields.get("shipped_at"), delivered_at=fields.get("delivered_at")
    )
    order = order_upsert(external_id=external_id, actor=actor, buyer=buyer, seller=seller, **fields)
    return order, existing is None


@transaction.atomic
def order_upsert(*, external_id: str, actor=None, **fields) -> Order:
    """Create or update the mirror of a marketplace order, keyed by its external id."""
    order = Order.objects.select_for_update().filter(external_id=external_id).first()
    order = order or Order(external_id=external_id)
    for name, value in fields.items():
        setattr(order, name, value)
    validate(order, error=InvalidInput, message="The order is not valid.")
    order._history_user = actor
    order._change_reason = "Order received from the marketplace"
    order.save()
    return order


@transaction.atomic
def order_record_shipment(
    *,
    order: Order,
    actor,
    carrier: str | None = None,
    tracking_number: str | None = None,
    shipped_at: datetime | None = None,
    delivered_at: datetime | None = None,
) -> Order:
    """Record where the parcel is: carrier, tracking, dispatch and delivery. What is not given stays.

    The status follows: delivered once there is a delivery time, else shipped once dispatched.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == Order.Status.CANCELLED:
        raise InvalidInput("A cancelled order is not shipped.", errors={"status": ["The order is cancelled."]})
    changes = {
        "carrier": carrier,
        "tracking_number": tracking_number,
        "shipped_at": shipped_at,
        "delivered_at": delivered_at,
    }
    for name, value in changes.items():
        if value is not None:
            setattr(order, name, value.strip() if isinstance(value, str) else value)
    if order.delivered_at and not order.shipped_at:
        order.shipped_at = order.delivered_at
    _check_times(placed_at=order.placed_at, shipped_at=order.shipped_at, delivered_at=order.delivered_at)
    if order.delivered_at:
        order.status = Order.Status.DELIVERED
    elif order.shipped_at:
        order.status = Order.Status.SHIPPED
    validate(order, error=InvalidInput, message="The shipment is not valid.")
    save_with_history(order, actor=actor, reason="Shipment update from the marketplace")
    return order


def _check_times(*, placed_at, shipped_at, delivered_at) -> None:
    errors = {}
    if placed_at and shipped_at and shipped_at < placed_at:
        errors["shipped_at"] = ["An order is shipped after it is placed."]
    if delivered_at and (shipped_at or placed_at) and delivered_at < (shipped_at or placed_at):
        errors["delivered_at"] = ["An order is delivered after it is shipped."]
    if errors:
        raise InvalidInput("The order's times are out of order.", errors=errors)
