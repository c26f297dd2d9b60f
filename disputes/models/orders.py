"""Orders mirrored from the marketplace, and the money they are paid in."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 12, "decimal_places": 2}


class Currency(models.TextChoices):
    EUR = "EUR", "Euro"
    USD = "USD", "US dollar"
    GBP = "GBP", "Pound sterling"


class OrderQuerySet(models.QuerySet):
    def filing_window_open(self, *, window_days: int, at: datetime):
        """Orders whose window to open a case, `window_days` from Order.filing_window_starts_at, is
        still open at `at` (on its last instant too)."""
        starts_at = Coalesce("delivered_at", "shipped_at", "placed_at")  # filing_window_starts_at in SQL
        return self.alias(window_starts_at=starts_at).filter(window_starts_at__gte=at - timedelta(days=window_days))


class Order(models.Model):
    """An order mirrored from the marketplace; the desk never sells anything itself."""

    class Status(models.TextChoices):
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    external_id = models.CharField(max_length=64, unique=True)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales")
    item_title = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.EUR)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PAID)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    placed_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
            models.CheckConstraint(condition=~Q(buyer=models.F("seller")), name="order_buyer_is_not_seller"),
        ]
        indexes = [
            # My orders, newest first (built online by migration 0008).
            models.Index(fields=["buyer", "-placed_at", "-id"], name="order_buyer_newest"),
        ]

    def __str__(self):
        return f"{self.external_id}: {self.item_title}"

    @property
    def filing_window_starts_at(self) -> datetime:
        """The window to open a case runs from delivery, else dispatch, else purchase (in a query:
        Order.objects.filing_window_open)."""
        return self.delivered_at or self.shipped_at or self.placed_at
