"""The demo's cases: who files what, and the steps that bring each to its state."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from disputes import services
from disputes.models import Case


@dataclass(frozen=True)
class Scenario:
    number: int
    buyer: str
    seller: str
    item: str
    amount: str
    reason: str
    wants: str
    claimed: str
    story: str
    steps: Callable[[Case, dict], None]


def _offer_partial(case, people):
    services.offer_make(
        case=case,
        seller=people[case.seller.username],
        kind="partial_refund",
        amount=Decimal("12.00"),
        note="Sorry about that. Would a partial refund help?",
    )


def _offer_replacement(case, people):
    services.offer_make(
        case=case, seller=people[case.seller.username], kind="replacement", note="I can send a new one tomorrow."
    )


def _decline(case, people):
    services.case_decline_claim(
        case=case, seller=people[case.seller.username], note="The item was as described in the listing."
    )


def _escalate(case, people):
    _decline(case, people)
    services.case_escalate(case=case, buyer=people[case.buyer.username], note="Please look at the photos.")


def _mediate(case, people):
    _escalate(case, people)
    services.case_claim(case=case, agent=people["agent"])


def _propose(case, people):
    _mediate(case, people)
    services.proposal_make(
        case=case,
        agent=people["agent"],
        kind="partial_refund",
        amount=Decimal("20.00"),
        note="A partial refund seems fair given the photos.",
    )


def _accept_return(case, people):
    services.case_accept_claim(case=case, seller=people[case.seller.username])


def _return_shipped(case, people):
    _accept_return(case, people)
    services.case_mark_return_shipped(
        case=case, buyer=people[case.buyer.username], carrier="DHL", tracking_number="JD014600006281"
    )


def _offer_accepted(case, people):
    _offer_partial(case, people)
    services.offer_accept(case=case, buyer=people[case.buyer.username])


def _claim_accepted(case, people):
    services.case_accept_claim(case=case, seller=people[case.seller.username])


def _decided(case, people):
    _mediate(case, people)
    services.case_decide(
        case=case,
        agent=people["agent"],
        outcome="no_action",
        amount=None,
        rationale="Disputes policy: the listing described the scuff; the seller is upheld.",
    )


def _return_confirmed(case, people):
    _return_shipped(case, people)
    services.case_confirm_return(case=case, seller=people[case.seller.username])


def _appealed(case, people):
    _decided(case, people)
    services.case_appeal(
        case=case, party=people[case.buyer.username], grounds="The scuff was not visible in any listing photo."
    )


def _appeal_decided(case, people):
    _appealed(case, people)
    services.appeal_claim(case=case, agent=people["senior"])
    services.case_decide_appeal(
        case=case,
        agent=people["senior"],
        outcome="partial_refund",
        amount=Decimal("25.00"),
        rationale="Disputes policy: defects must be shown in the listing; partly overturned.",
    )


def _withdrawn(case, people):
    services.case_withdraw(case=case, buyer=people[case.buyer.username], note="It turned up at a neighbour's.")


def _withdrawn_after_escalation(case, people):
    _escalate(case, people)
    services.case_withdraw(case=case, buyer=people[case.buyer.username], note="We sorted it out by phone.")


def _nothing(case, people):
    pass


SCENARIOS = [
    Scenario(
        1,
        "buyer",
        "seller",
        "Bluetooth headphones",
        "59.90",
        "not_received",
        "full_refund",
        "59.90",
        "Tracking says delivered but nothing arrived.",
        _nothing,
    ),
    Scenario(
        2,
        "buyer2",
        "seller2",
        "Ceramic teapot",
        "34.00",
        "damaged",
        "replacement",
        "34.00",
        "The spout broke in transit.",
        _nothing,
    ),
    Scenario(
        3,
        "buyer",
        "seller2",
        "Wool scarf, green",
        "25.00",
        "wrong_item",
        "return_and_refund",
        "25.00",
        "I ordered green and got red.",
        _nothing,
    ),
    Scenario(
        4,
        "buyer",
        "seller",
        "Desk lamp",
        "42.00",
        "not_as_described",
        "partial_refund",
        "15.00",
        "The shade has a crack the photos did not show.",
        _offer_partial,
    ),
    Scenario(
        5,
        "buyer2",
        "seller",
        "Phone case",
        "12.50",
        "damaged",
        "replacement",
        "12.50",
        "The case arrived split at the corner.",
        _offer_replacement,
    ),
    Scenario(
        6,
        "buyer",
        "seller2",
        "Vintage poster",
        "80.00",
        "not_as_described",
        "partial_refund",
        "30.00",
        "The poster is a reprint, not an original.",
        _decline,
    ),
    Scenario(
        7,
        "buyer",
        "seller",
        "Running shoes",
        "95.00",
        "not_as_described",
        "full_refund",
        "95.00",
        "The soles are worn; they were sold as new.",
        _escalate,
    ),
    Scenario(
        8,
        "buyer2",
        "seller2",
        "Board game",
        "39.99",
        "not_received",
        "full_refund",
        "39.99",
        "No tracking updates for three weeks.",
        _escalate,
    ),
    Scenario(
        9,
        "buyer",
        "seller",
        "Mechanical keyboard",
        "129.00",
        "damaged",
        "partial_refund",
        "40.00",
        "Two keys do not register.",
        _mediate,
    ),
    Scenario(
        10,
        "buyer2",
        "seller",
        "Coffee grinder",
        "64.00",
        "not_as_described",
        "partial_refund",
        "30.00",
        "It grinds unevenly; the listing promised uniform grinds.",
        _propose,
    ),
    Scenario(
        11,
        "buyer",
        "seller",
        "Linen shirt",
        "45.00",
        "change_of_mind",
        "return_and_refund",
        "45.00",
        "It does not fit; I would like to send it back.",
        _accept_return,
    ),
    Scenario(
        12,
        "buyer2",
        "seller2",
        "Rain jacket",
        "70.00",
        "wrong_item",
        "return_and_refund",
        "70.00",
        "Wrong size sent.",
        _return_shipped,
    ),
    Scenario(
        13,
        "buyer",
        "seller",
        "Plant pot set",
        "28.00",
        "damaged",
        "partial_refund",
        "12.00",
        "One of the three pots was chipped.",
        _offer_accepted,
    ),
    Scenario(
        14,
        "buyer2",
        "seller",
        "USB-C cable",
        "9.99",
        "not_received",
        "full_refund",
        "9.99",
        "Never arrived.",
        _claim_accepted,
    ),
    Scenario(
        15,
        "buyer",
        "seller2",
        "Leather wallet",
        "55.00",
        "not_as_described",
        "full_refund",
        "55.00",
        "There is a scuff on the front.",
        _decided,
    ),
    Scenario(
        16,
        "buyer",
        "seller",
        "Bookshelf speakers",
        "149.00",
        "damaged",
        "return_and_refund",
        "149.00",
        "The left speaker crackles.",
        _return_confirmed,
    ),
    Scenario(
        17,
        "buyer2",
        "seller",
        "Camera strap",
        "22.00",
        "not_as_described",
        "full_refund",
        "22.00",
        "The strap is shorter than listed.",
        _appealed,
    ),
    Scenario(
        18,
        "buyer",
        "seller2",
        "Denim jacket",
        "88.00",
        "not_as_described",
        "full_refund",
        "88.00",
        "Stains on the back not shown in the listing.",
        _appeal_decided,
    ),
    Scenario(
        19,
        "buyer",
        "seller",
        "Paperback novel",
        "11.00",
        "not_received",
        "full_refund",
        "11.00",
        "Not here yet.",
        _withdrawn,
    ),
    Scenario(
        20,
        "buyer2",
        "seller2",
        "Yoga mat",
        "31.00",
        "damaged",
        "replacement",
        "31.00",
        "Torn at one end.",
        _withdrawn_after_escalation,
    ),
]
