"""One entry for adapters that name an action (admin buttons, the API): name → service."""

from disputes.models import Case
from disputes.services._common import refusal
from disputes.services.automation import case_close_inactive, case_resolve_by_rule
from disputes.services.cases import (
    case_accept_claim,
    case_appeal,
    case_close,
    case_confirm_return,
    case_decline_claim,
    case_escalate,
    case_escalate_unanswered,
    case_lapse_return,
    case_withdraw,
    offer_accept,
    offer_decline,
    offer_make,
)
from disputes.services.mediation import case_claim, case_decide, case_decide_appeal

TRANSITION_SERVICES = {
    "make_offer": lambda case, actor, **p: offer_make(case=case, seller=actor, **p),
    "decline_claim": lambda case, actor, **p: case_decline_claim(case=case, seller=actor, **p),
    "accept_claim": lambda case, actor, **p: case_accept_claim(case=case, seller=actor),
    "confirm_return": lambda case, actor, **p: case_confirm_return(case=case, seller=actor),
    "accept_offer": lambda case, actor, **p: offer_accept(case=case, buyer=actor),
    "decline_offer": lambda case, actor, **p: offer_decline(case=case, buyer=actor, **p),
    "escalate": lambda case, actor, **p: case_escalate(case=case, buyer=actor, **p),
    "withdraw": lambda case, actor, **p: case_withdraw(case=case, buyer=actor, **p),
    "appeal": lambda case, actor, **p: case_appeal(case=case, party=actor, **p),
    "claim": lambda case, actor, **p: case_claim(case=case, agent=actor),
    "decide": lambda case, actor, **p: case_decide(case=case, agent=actor, **p),
    "decide_appeal": lambda case, actor, **p: case_decide_appeal(case=case, agent=actor, **p),
    "escalate_unanswered": lambda case, actor, **p: case_escalate_unanswered(case=case, actor=actor),
    "lapse_return": lambda case, actor, **p: case_lapse_return(case=case, actor=actor),
    "close": lambda case, actor, **p: case_close(case=case, actor=actor),
    "resolve_automatically": lambda case, actor, **p: case_resolve_by_rule(case=case, actor=actor),
    "close_inactive": lambda case, actor, **p: case_close_inactive(case=case, actor=actor),
}


def case_transition(*, case: Case, actor, name: str, **params):
    """Fire the transition called `name` through its service."""
    service = TRANSITION_SERVICES.get(name)
    if service is None:
        raise refusal(case, name, actor, f"There is no action called {name!r}.")
    return service(case, actor, **params)
