"""Cases the console's service tests start from, brought to their states through the services."""

from decimal import Decimal

from disputes import services
from disputes.models import Case
from tests import factories
from tests.disputes.case_states import bring_to, reload

S = Case.State


def new_case(**order_fields) -> Case:
    return factories.case(order_=factories.order(**order_fields))


def escalated(**order_fields) -> Case:
    return bring_to(S.ESCALATED, new_case(**order_fields))


def decided_then_appealed(*, by) -> Case:
    """`by` mediates and decides; the seller appeals, so the appeal waits for a senior agent."""
    case = bring_to(S.IN_MEDIATION, new_case(), agent=by)
    services.case_decide(
        case=case, agent=by, outcome="partial_refund", amount=Decimal("20.00"), rationale="Policy section 4."
    )
    services.case_appeal(case=reload(case), party=case.seller, grounds="The buyer broke the shade.")
    return reload(case)


def last_change(case: Case):
    return case.history.order_by("-history_date", "-history_id").first()
