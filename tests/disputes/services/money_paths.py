"""What the offer, refund, return and proposal tests share: the moment their clock stands at, the
amounts the factories give (orders of 80.00 EUR claiming a 30.00 partial refund), the pinned rules'
windows (10 days to send a return back, 7 to appeal), and how they read refunds and make offers.
Their fixtures (clock, mediated_case, return_case) are in this folder's conftest.py."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from disputes import services
from disputes.models import Case, Offer, RefundInstruction
from tests.disputes.case_states import RETURN_ADDRESS

S = Case.State
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
RETURN_SHIPPING = timedelta(days=10)
APPEAL_WINDOW = timedelta(days=7)
ORDER_AMOUNT = Decimal("80.00")
CLAIMED = Decimal("30.00")
RATIONALE = "Photos show the shade cracked in transit; disputes policy 4.2."


def refunds(case: Case) -> list[tuple[Decimal, str, str]]:
    return [(r.amount, r.currency, r.idempotency_key) for r in RefundInstruction.objects.filter(case=case)]


def offer(case: Case, seller, kind: str, amount: Decimal | None = None) -> Offer:
    address = RETURN_ADDRESS if kind == "return_and_refund" else ""
    return services.offer_make(case=case, seller=seller, kind=kind, amount=amount, return_address=address)
