"""Every write to the desk's records goes through these services.

Each runs in one transaction, locks the case row, checks the state machine and the actor's
permission, saves the change with its history (who and why), and announces the event after
commit. A refusal raises a `disputes.exceptions` error and writes nothing.
"""

from disputes.services._common import case_available_actions, system_user
from disputes.services.automation import case_close_inactive, case_handle_unanswered, case_resolve_by_rule
from disputes.services.cases import (
    case_accept_claim,
    case_appeal,
    case_close,
    case_confirm_return,
    case_decline_claim,
    case_escalate,
    case_escalate_unanswered,
    case_file,
    case_lapse_return,
    case_mark_return_shipped,
    case_withdraw,
    offer_accept,
    offer_decline,
    offer_make,
    proposal_answer,
)
from disputes.services.mediation import (
    agent_set_available,
    appeal_claim,
    assign_escalation_automatically,
    case_claim,
    case_decide,
    case_decide_appeal,
    case_reassign,
    case_take_next,
    evidence_request_create,
    proposal_make,
)
from disputes.services.orders import order_upsert
from disputes.services.transitions import TRANSITION_SERVICES, case_transition

__all__ = [
    "TRANSITION_SERVICES",
    "agent_set_available",
    "appeal_claim",
    "assign_escalation_automatically",
    "case_take_next",
    "evidence_request_create",
    "case_accept_claim",
    "case_appeal",
    "case_available_actions",
    "case_claim",
    "case_close_inactive",
    "case_handle_unanswered",
    "case_resolve_by_rule",
    "case_close",
    "case_confirm_return",
    "case_decide",
    "case_decide_appeal",
    "case_decline_claim",
    "case_escalate",
    "case_escalate_unanswered",
    "case_file",
    "case_lapse_return",
    "case_mark_return_shipped",
    "case_reassign",
    "case_transition",
    "case_withdraw",
    "offer_accept",
    "offer_decline",
    "offer_make",
    "order_upsert",
    "proposal_answer",
    "proposal_make",
    "system_user",
]
