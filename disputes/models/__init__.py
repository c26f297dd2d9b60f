"""The dispute desk's models, one module per part of the domain."""

from disputes.models.accounts import FormSubmission, Profile
from disputes.models.agents import AgentStatus, CannedReply, CaseViewer, HistoricalCannedReply
from disputes.models.cases import Case, HistoricalCase
from disputes.models.choices import REFUND_OUTCOMES, Outcome, Reason, Remedy
from disputes.models.conversation import Evidence, EvidenceRequest, Message, evidence_path
from disputes.models.integration import IdempotencyKey, WebhookDelivery, WebhookEndpoint, webhook_secret
from disputes.models.notifications import Notification, Reminder
from disputes.models.orders import MONEY, Currency, HistoricalOrder, Order
from disputes.models.resolution import Decision, HistoricalDecision, HistoricalOffer, Offer, RefundInstruction

__all__ = [
    "AgentStatus",
    "CannedReply",
    "Case",
    "CaseViewer",
    "Currency",
    "Decision",
    "Evidence",
    "EvidenceRequest",
    "FormSubmission",
    "HistoricalCannedReply",
    "HistoricalCase",
    "HistoricalDecision",
    "HistoricalOffer",
    "HistoricalOrder",
    "IdempotencyKey",
    "MONEY",
    "Message",
    "Notification",
    "Offer",
    "Order",
    "Outcome",
    "Profile",
    "REFUND_OUTCOMES",
    "Reason",
    "RefundInstruction",
    "Remedy",
    "Reminder",
    "WebhookDelivery",
    "WebhookEndpoint",
    "evidence_path",
    "webhook_secret",
]
