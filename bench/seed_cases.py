"""The cases under bench/seed.py: each walked along a real path of its state machine, and the rows
that path leaves behind in every table.

`CaseRows.plan_parties` picks each case's final state and parties (the known buyer and seller get
their share), `path` the transitions that lead there, and `one_case` walks them: the order and its
history row, the case with one history row per step (acting user, reason), deadlines from the
pinned policy version, the offer, decisions, refund instruction, then messages, a photo, the
parties' notifications and a survey answer. Rows go to the `Table`s of `bench.seed_copy`.
"""

import hashlib
import operator
import random
from datetime import datetime, timedelta
from decimal import Decimal

from bench.seed_copy import Ids, Table
from bench.seed_people import Cast

# Where cases end up (weights sum to 100): mostly finished, enough in flight for a real queue.
FINAL_STATES = [
    ("closed", 70),
    ("resolved", 8),
    ("withdrawn", 5),
    ("open", 5),
    ("awaiting_buyer", 4),
    ("escalated", 3),
    ("in_mediation", 3),
    ("awaiting_return", 1),
    ("appealed", 1),
]
# The known buyer's cases walk through every state, in this order, over and over.
BUYER_STATES = [
    "closed", "open", "awaiting_buyer", "escalated", "in_mediation", "resolved", "closed", "withdrawn",
    "awaiting_return", "appealed", "closed", "closed",
]  # fmt: skip

ORDER_COLUMNS = [
    "id", "external_id", "buyer_id", "seller_id", "item_title", "amount", "status", "carrier", "tracking_number",
    "placed_at", "shipped_at", "delivered_at", "created_at", "updated_at",
]  # fmt: skip
ORDER_HISTORY_EXTRA = ["history_id", "history_date", "history_type"]
CASE_HISTORY_EXTRA = ["history_id", "history_date", "history_change_reason", "history_type", "history_user_id"]
OFFER_COLUMNS = [
    "id", "case_id", "made_by_id", "made_by_role", "kind", "amount", "status", "seller_answer", "buyer_answer",
    "created_at", "answered_at",
]  # fmt: skip
DECISION_COLUMNS = ["id", "case_id", "stage", "outcome", "amount", "rationale", "decided_by_id", "decided_at"]
REFUND_COLUMNS = [
    "id", "case_id", "amount", "currency", "idempotency_key", "status", "created_at", "attempts", "sent_at",
]  # fmt: skip
EVIDENCE_COLUMNS = [
    "id", "case_id", "uploaded_by_id", "file", "original_name", "content_type", "size", "sha256", "created_at",
]  # fmt: skip
NOTIFICATION_COLUMNS = ["id", "recipient_id", "case_id", "event", "text", "created_at", "read_at"]


def hours(rng, low, high) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


class CaseRows:
    """Writes cases into `self.tables`; one `random.Random` drives every choice, so a seed gives
    the same rows."""

    def __init__(self, *, cast: Cast, rules, ids: Ids, rng: random.Random, now: datetime):
        self.cast = cast
        self.rules = rules  # the disputes policy version the cases are pinned to
        self.ids = ids
        self.rng = rng
        self.now = now
        self.tables = self.make_tables()

    def make_tables(self) -> dict:
        from disputes.models import Case, Decision, Evidence, Message, Notification, Offer, Order, RefundInstruction
        from feedback.models import SurveyResponse

        now = self.now
        case_fields = [f.attname for f in Case._meta.concrete_fields]
        self.case_fields = case_fields
        self.case_values = operator.itemgetter(*case_fields)
        return {
            "order": Table(Order, ORDER_COLUMNS, now),
            "order_history": Table(Order.history.model, ORDER_COLUMNS + ORDER_HISTORY_EXTRA, now),
            "case": Table(Case, case_fields, now),
            "case_history": Table(Case.history.model, case_fields + CASE_HISTORY_EXTRA, now),
            "offer": Table(Offer, OFFER_COLUMNS, now),
            "decision": Table(Decision, DECISION_COLUMNS, now),
            "refund": Table(RefundInstruction, REFUND_COLUMNS, now),
            "message": Table(Message, ["id", "case_id", "author_id", "body", "is_internal", "created_at"], now),
            "evidence": Table(Evidence, EVIDENCE_COLUMNS, now),
            "notification": Table(Notification, NOTIFICATION_COLUMNS, now),
            "survey": Table(SurveyResponse, ["id", "case_id", "respondent_id", "score", "created_at"], now),
        }

    def plan_parties(self, n: int) -> list[tuple]:
        """(final state, buyer, seller) per case: the known buyer gets ~20 cases in every state,
        the known seller ~50, the rest is spread at random."""
        rng = self.rng
        states = [s for s, _ in FINAL_STATES]
        weights = [w for _, w in FINAL_STATES]
        buyer_every = max(n // 20, 1)
        seller_every = max(n // 50, 1)
        buyers, sellers = self.cast.buyers[1:], self.cast.sellers[1:]  # the crowd, without the known pair
        plan = []
        for i, state in enumerate(rng.choices(states, weights, k=n)):
            buyer = rng.choice(buyers)
            seller = rng.choice(sellers)
            if i % buyer_every == buyer_every // 2:
                buyer, state = self.cast.buyer.pk, BUYER_STATES[(i // buyer_every) % len(BUYER_STATES)]
            if i % seller_every == 1:
                seller = self.cast.seller.pk
            plan.append((state, buyer, seller))
        return plan

    def path(self, final: str) -> list[str]:
        rng = self.rng
        resolutions = [
            ["make_offer", "accept_offer"],
            ["accept_claim"],
            ["escalate", "claim", "decide"],
            ["accept_claim_return", "confirm_return"],
        ]
        if final == "open":
            return []
        if final == "awaiting_buyer":
            return [rng.choice(["make_offer", "decline_claim"])]
        if final == "escalated":
            return rng.choice([["escalate"], ["decline_claim", "escalate"]])
        if final == "in_mediation":
            return ["escalate", "claim"]
        if final == "awaiting_return":
            return ["accept_claim_return"]
        if final == "resolved":
            return rng.choices(resolutions, [35, 25, 30, 10])[0]
        if final == "appealed":
            return ["escalate", "claim", "decide", "appeal"]
        if final == "withdrawn":
            return rng.choice([["withdraw"], ["escalate", "withdraw"]])
        # closed
        roll = rng.random()
        if roll < 0.06:
            return ["escalate", "claim", "decide", "appeal", "appeal_claim", "decide_appeal"]
        if roll < 0.16:
            return ["decline_claim", "close_inactive"]
        return rng.choices(resolutions, [35, 25, 30, 10])[0] + ["close"]

    def one_case(self, i: int, final: str, buyer: int, seller: int):
        rng, t, rules = self.rng, self.tables, self.rules
        steps = self.path(final)
        case_id = self.ids.take("disputes_case")
        order_id = self.ids.take("disputes_order")
        amount = Decimal(rng.choice([12, 25, 40, 60, 90, 150, 320])) + Decimal(rng.choice(["0.00", "0.50", "0.99"]))
        requested = (
            "return_and_refund"
            if "accept_claim_return" in steps
            else rng.choice(
                ["full_refund", "full_refund", "partial_refund", "replacement"]
                if "accept_claim" not in steps
                else ["full_refund"]
            )
        )
        claimed = amount if requested != "partial_refund" else (amount / 2).quantize(Decimal("0.01"))

        # Times: walk forward from filing, then shift so the last step lands where the final
        # state belongs (long ago for finished cases, the last hours for cases in flight).
        deltas, at = [], timedelta(0)
        for step in steps:
            if step == "escalate":
                at += timedelta(hours=rules.buyer_wait_hours) + hours(rng, 0, 24)
            elif step == "close":
                at += timedelta(days=rules.appeal_window_days, minutes=5)
            elif step == "close_inactive":
                at += timedelta(hours=rules.offer_response_hours, minutes=5)
            elif step == "confirm_return":
                at += hours(rng, 72, 240)
            else:
                at += hours(rng, 1, 48)
            deltas.append(at)
        if final in ("closed", "withdrawn"):
            end = self.now - timedelta(days=rng.uniform(1, 720))
        elif final in ("resolved", "appealed"):
            end = self.now - hours(rng, 1, rules.appeal_window_days * 24 - 24)
        else:
            end = self.now - hours(rng, 0.1, 20)
        filed = end - at
        placed = filed - timedelta(days=rng.uniform(5, 25))
        shipped, delivered = placed + timedelta(days=1), placed + timedelta(days=3)

        order = (
            order_id, f"BENCH-{order_id:08d}", buyer, seller, f"Bench item {i % 977}", amount, "delivered", "DHL",
            f"JD{order_id:014d}", placed, shipped, delivered, placed, delivered,
        )  # fmt: skip
        t["order"].add(*order)
        t["order_history"].add(*order, self.ids.take("disputes_historicalorder", "history_id"), placed, "+")

        c = {name: None for name in self.case_fields}
        c.update(
            id=case_id, order_id=order_id, buyer_id=buyer, seller_id=seller, state="open",
            reason=rng.choice(["not_received", "not_as_described", "damaged", "wrong_item", "other"]),
            requested_outcome=requested, amount_claimed=claimed, currency="EUR",
            description="The parcel arrived with a crushed corner and the item inside is scratched.",
            outcome="", policy_version_id=rules.history_id, return_carrier="", return_tracking_number="",
            filed_at=filed, updated_at=filed, buyer_last_active_at=filed,
            seller_answer_due_at=filed + timedelta(hours=rules.seller_answer_hours),
            buyer_may_escalate_at=filed + timedelta(hours=rules.buyer_wait_hours),
        )  # fmt: skip
        history = self.tables["case_history"]
        case_values = self.case_values
        history_ids = self.ids

        def snapshot(at, kind, user, reason):
            c["updated_at"] = at
            history.add(
                *case_values(c), history_ids.take("disputes_historicalcase", "history_id"), at, reason, kind, user
            )

        snapshot(filed, "+", buyer, "Case filed")
        notices = [(seller, "filed", filed)]
        offer = None
        agent = None
        events_at = [filed]
        last_actor, last_event = buyer, "filed"

        def settle(outcome, refund, at):
            c["outcome"] = outcome
            c["refund_amount"] = refund if outcome in ("full_refund", "partial_refund", "return_and_refund") else None
            c["resolved_at"] = at
            c["appeal_until"] = at + timedelta(days=rules.appeal_window_days)
            c["state"] = "resolved"

        for step, delta in zip(steps, deltas):
            at = filed + delta
            actor = buyer
            if step == "make_offer":
                actor = seller
                c["state"] = "awaiting_buyer"
                c["seller_answered_at"] = c["seller_answered_at"] or at
                c["buyer_answer_due_at"] = at + timedelta(hours=rules.offer_response_hours)
                offer = [
                    self.ids.take("disputes_offer"), case_id, seller, "seller", "partial_refund",
                    (claimed / 2).quantize(Decimal("0.01")), "pending", "", "", at, None,
                ]  # fmt: skip
            elif step == "decline_claim":
                actor = seller
                c["state"] = "awaiting_buyer"
                c["seller_answered_at"] = c["seller_answered_at"] or at
                c["seller_declined_at"] = at
                c["buyer_answer_due_at"] = at + timedelta(hours=rules.offer_response_hours)
            elif step == "accept_offer":
                offer[6], offer[8], offer[10] = "accepted", "accepted", at
                c["buyer_answer_due_at"] = None
                settle("partial_refund", offer[5], at)
            elif step == "accept_claim":
                actor = seller
                c["seller_answered_at"] = c["seller_answered_at"] or at
                kept = {"replacement", "partial_refund"}
                settle(requested if requested in kept else "full_refund", claimed, at)
            elif step == "accept_claim_return":
                actor = seller
                c["seller_answered_at"] = c["seller_answered_at"] or at
                c["outcome"], c["refund_amount"] = "return_and_refund", claimed
                c["return_due_at"] = at + timedelta(days=rules.return_shipping_days)
                c["state"] = "awaiting_return"
            elif step == "confirm_return":
                actor = seller
                c["return_carrier"], c["return_tracking_number"] = "DHL", f"RT{case_id:012d}"
                c["return_shipped_at"] = at - timedelta(days=2)
                settle("return_and_refund", claimed, at)
            elif step == "escalate":
                c["state"] = "escalated"
                c["escalated_at"] = at
                c["buyer_answer_due_at"] = None
                c["agent_decision_due_at"] = at + timedelta(hours=rules.agent_decision_hours)
            elif step == "claim":
                agent = rng.choice(self.cast.agents[:1] * 2 + self.cast.agents[2:])  # the known agent gets a fair share
                actor = c["agent_id"] = agent
                c["state"] = "in_mediation"
            elif step == "decide":
                actor = agent
                outcome = rng.choice(["full_refund", "partial_refund", "no_action", "no_action"])
                refund = claimed if outcome == "full_refund" else (claimed / 2).quantize(Decimal("0.01"))
                refund = None if outcome == "no_action" else refund
                settle(outcome, refund, at)
                t["decision"].add(
                    self.ids.take("disputes_decision"), case_id, "mediation", outcome, refund,
                    "The photos show the damage described in the listing.", agent, at,
                )  # fmt: skip
            elif step == "appeal":
                c["state"] = "appealed"
                c["appealed_by_id"] = buyer
                c["agent_id"] = None
                c["agent_decision_due_at"] = at + timedelta(hours=rules.agent_decision_hours)
            elif step == "appeal_claim":
                actor = c["agent_id"] = self.cast.senior.pk
            elif step == "decide_appeal":
                actor = self.cast.senior.pk
                c["state"] = "closed"
                c["closed_at"] = at
                c["outcome"], c["refund_amount"] = "partial_refund", (claimed / 2).quantize(Decimal("0.01"))
                t["decision"].add(
                    self.ids.take("disputes_decision"), case_id, "appeal", "partial_refund", c["refund_amount"],
                    "Partly overturned on appeal.", actor, at,
                )  # fmt: skip
            elif step in ("close", "close_inactive"):
                actor = self.cast.system.pk
                c["state"] = "closed"
                c["closed_at"] = at
                c["buyer_answer_due_at"] = None
                if offer and offer[6] == "pending":
                    offer[6] = "lapsed"
            elif step == "withdraw":
                c["state"] = "withdrawn"
                c["closed_at"] = at
                if offer and offer[6] == "pending":
                    offer[6] = "lapsed"
            if actor == buyer:
                c["buyer_last_active_at"] = at
            snapshot(at, "~", actor, step.replace("_", " ").capitalize())
            events_at.append(at)
            last_actor, last_event = actor, step
        if offer:
            t["offer"].add(*offer)

        if c["refund_amount"] and c["state"] in ("resolved", "closed", "appealed"):
            t["refund"].add(
                self.ids.take("disputes_refundinstruction"), case_id, c["refund_amount"], "EUR",
                f"bench-refund-{case_id}", "sent", c["resolved_at"], 1, c["resolved_at"],
            )  # fmt: skip
        t["case"].add(*case_values(c))

        # A few messages, a photo on a quarter of the cases, the notices the parties got.
        end_at = events_at[-1]
        span = max((end_at - filed).total_seconds(), 3600)
        authors = [buyer, seller] + ([agent] if agent else [])
        for k in range(rng.choice([0, 1, 2, 2, 3, 3, 4, 6])):
            author = authors[k % len(authors)]
            t["message"].add(
                self.ids.take("disputes_message"), case_id, author,
                f"Message {k + 1} about the order: could you check the photos again?",
                author == agent and k % 2 == 1, filed + timedelta(seconds=span * (k + 1) / 8),
            )  # fmt: skip
        if rng.random() < 0.25:
            t["evidence"].add(
                self.ids.take("disputes_evidence"), case_id, buyer, f"evidence/bench-{case_id}.jpg", "damage.jpg",
                "image/jpeg", 184_320, hashlib.sha256(b"bench").hexdigest(), filed,
            )  # fmt: skip
        if last_event != "filed":
            for recipient in (buyer, seller):
                if recipient != last_actor:
                    notices.append((recipient, last_event, end_at))
        read_before = self.now - timedelta(days=3)
        for recipient, event, at in notices:
            text = f"Case MS-{case_id:06d}: {event.replace('_', ' ')}."
            t["notification"].add(
                self.ids.take("disputes_notification"), recipient, case_id, event, text, at,
                at + timedelta(hours=2) if at < read_before else None,
            )  # fmt: skip
        if c["state"] == "closed" and c["outcome"] and rng.random() < 0.3:
            t["survey"].add(self.ids.take("feedback_surveyresponse"), case_id, buyer, rng.randint(1, 5), end_at)
