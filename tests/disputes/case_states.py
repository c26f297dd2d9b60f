"""Bring a freshly filed case to each state of the machine, only through the services.

Every `to_<state>` takes a case as `factories.case` files it (open, claiming a partial refund)
and returns it reloaded in that state. Staff are passed in, so a test knows which agent is
assigned and which senior agent decided. Nothing here moves the clock.
"""

from contextlib import contextmanager
from decimal import Decimal

import pytest

from disputes import services
from disputes.models import Case, Decision, Offer, RefundInstruction

OFFERED_AMOUNT = Decimal("20.00")
RETURN_ADDRESS = "Seller Ltd, 1 Dock Road, Rotterdam"


def reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def footprint(case: Case) -> dict:
    """Everything a refused action must leave as it was: the state and every stored row."""
    case = reload(case)
    return {
        "state": case.state,
        "history": case.history.count(),
        "offer_history": Offer.history.filter(case_id=case.pk).count(),
        "decisions": Decision.objects.filter(case=case).count(),
        "refunds": RefundInstruction.objects.filter(case=case).count(),
    }


@contextmanager
def refused(case: Case, error: type[Exception]):
    """Expect `error`, and afterwards the case exactly as it was before."""
    before = footprint(case)
    with pytest.raises(error) as excinfo:
        yield excinfo
    after = footprint(case)
    assert after == before, f"the refusal changed the case: {before} -> {after}"


def to_open(case: Case, **staff) -> Case:
    return reload(case)


def to_awaiting_buyer(case: Case, **staff) -> Case:
    """The seller offers a partial refund; the offer is pending."""
    services.offer_make(case=case, seller=case.seller, kind="partial_refund", amount=OFFERED_AMOUNT)
    return reload(case)


def to_escalated(case: Case, **staff) -> Case:
    """The seller declines, so the buyer may ask the platform at once."""
    services.case_decline_claim(case=case, seller=case.seller)
    services.case_escalate(case=case, buyer=case.buyer)
    return reload(case)


def to_in_mediation(case: Case, *, agent, **staff) -> Case:
    services.case_claim(case=to_escalated(case), agent=agent)
    return reload(case)


def to_awaiting_return(case: Case, **staff) -> Case:
    """The buyer accepts the seller's offer to take the item back and refund it."""
    services.offer_make(
        case=case, seller=case.seller, kind="return_and_refund", amount=OFFERED_AMOUNT, return_address=RETURN_ADDRESS
    )
    services.offer_accept(case=case, buyer=case.buyer)
    return reload(case)


def to_resolved(case: Case, **staff) -> Case:
    """The buyer accepts the seller's partial refund."""
    services.offer_accept(case=to_awaiting_buyer(case), buyer=case.buyer)
    return reload(case)


def to_appealed(case: Case, **staff) -> Case:
    services.case_appeal(case=to_resolved(case), party=case.buyer, grounds="The shade is beyond repair.")
    return reload(case)


def to_closed(case: Case, *, senior, **staff) -> Case:
    """A senior agent takes the appeal and upholds the resolution."""
    services.appeal_claim(case=to_appealed(case), agent=senior)
    services.case_decide_appeal(
        case=case,
        agent=senior,
        outcome="partial_refund",
        amount=OFFERED_AMOUNT,
        rationale="Upheld under the disputes policy, section 4.",
    )
    return reload(case)


def to_withdrawn(case: Case, **staff) -> Case:
    services.case_withdraw(case=case, buyer=case.buyer)
    return reload(case)


BRING_TO = {
    Case.State.OPEN: to_open,
    Case.State.AWAITING_BUYER: to_awaiting_buyer,
    Case.State.ESCALATED: to_escalated,
    Case.State.IN_MEDIATION: to_in_mediation,
    Case.State.AWAITING_RETURN: to_awaiting_return,
    Case.State.RESOLVED: to_resolved,
    Case.State.APPEALED: to_appealed,
    Case.State.CLOSED: to_closed,
    Case.State.WITHDRAWN: to_withdrawn,
}


def bring_to(state: str, case: Case, *, agent=None, senior=None) -> Case:
    """Move `case` from open to `state`; `agent` claims it on the way, `senior` decides an appeal."""
    case = BRING_TO[state](case, agent=agent, senior=senior)
    assert case.state == state, f"could not bring the case to {state}: it is {case.state}"
    return case
