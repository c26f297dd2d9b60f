"""The services under hostile input: each call is either refused with the desk's own error and
writes nothing, or stores exactly what was sent (trimmed of surrounding whitespace)."""

from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from disputes import services
from disputes.exceptions import InvalidInput
from disputes.models import Case, Decision, Evidence, EvidenceRequest, Message, Offer
from disputes.services.conversation import evidence_add, message_post
from tests.disputes.portal.helpers import photo
from tests.hostile.conftest import EVIDENCE_DUE, HOSTILE, rolled_back, row_counts
from tests.hostile.payloads import amount_decimal, any_text, hostile_text, unstorable

pytestmark = pytest.mark.django_db

MONEY_LIMIT = Decimal("9999999999.99")  # 12 digits, 2 places


def refused_or_stored(call, expect_stored):
    """Run `call`; a refusal must leave every table as it was, a success must pass `expect_stored`."""
    with rolled_back():
        before = row_counts()
        try:
            result = call()
        except InvalidInput as refusal:
            assert refusal.message and isinstance(refusal.errors, dict)
            assert row_counts() == before, f"refused ({refusal.message}) but wrote rows"
            return "refused"
        expect_stored(result)
        return "stored"


def valid_money(amount: Decimal, ceiling: Decimal) -> bool:
    return amount.is_finite() and Decimal("0") < amount <= ceiling and amount == amount.quantize(Decimal("0.01"))


@HOSTILE
@given(body=any_text(Message.MAX_LENGTH), internal=st.booleans())
@example(body="lamp\x00<script>", internal=False)
@example(body="lamp \ud800", internal=True)
@example(body="\u202egpj.exe <img src=x onerror=alert(1)>", internal=False)
def test_message_post_refuses_or_stores_the_text_exactly(open_case, agent, body, internal):
    author = agent if internal else open_case.buyer

    def check(message):
        stored = Message.objects.get(pk=message.pk)
        assert stored.body == body.strip() and stored.is_internal is internal
        assert 0 < len(stored.body) <= Message.MAX_LENGTH

    outcome = refused_or_stored(
        lambda: message_post(case=open_case, author=author, body=body, internal=internal), check
    )
    stripped = body.strip()
    should_store = bool(stripped) and len(stripped) <= Message.MAX_LENGTH and not unstorable(stripped)
    assert outcome == ("stored" if should_store else "refused")


@HOSTILE
@given(amount=amount_decimal, description=any_text(Message.MAX_LENGTH))
@example(amount=Decimal("NaN"), description="lamp")
@example(amount=Decimal("sNaN"), description="lamp")
@example(amount=Decimal("10.00"), description="lamp\x00")
def test_case_file_refuses_or_stores_the_claim_exactly(fresh_order, buyer, amount, description):
    order = fresh_order()

    def file():
        return services.case_file(
            buyer=buyer,
            order=order,
            reason="damaged",
            requested_outcome="partial_refund",
            amount_claimed=amount,
            description=description,
        )

    def check(case):
        stored = Case.objects.get(pk=case.pk)
        assert stored.amount_claimed == amount and stored.description == description.strip()
        assert stored.state == Case.State.OPEN

    outcome = refused_or_stored(file, check)
    if not valid_money(amount, order.amount) or not description.strip() or unstorable(description):
        assert outcome == "refused"


@HOSTILE
@given(
    kind=st.sampled_from(["partial_refund", "return_and_refund", "replacement", "full_refund", "", "<b>x</b>"]),
    amount=st.none() | amount_decimal,
    note=hostile_text(),
    return_address=any_text(1000),
)
def test_offer_make_refuses_or_stores_the_offer_exactly(open_case, kind, amount, note, return_address):
    def make():
        return services.offer_make(
            case=open_case, seller=open_case.seller, kind=kind, amount=amount, note=note, return_address=return_address
        )

    def check(offer):
        stored = Offer.objects.get(pk=offer.pk)
        assert stored.kind == kind and stored.note == note.strip() and stored.return_address == return_address.strip()
        if kind == "partial_refund":
            assert stored.amount == amount
        assert Case.objects.get(pk=open_case.pk).state == Case.State.AWAITING_BUYER

    outcome = refused_or_stored(make, check)
    if unstorable(note, return_address):
        assert outcome == "refused"
    if kind == "partial_refund" and (amount is None or not valid_money(amount, open_case.order.amount)):
        assert outcome == "refused"


@HOSTILE
@given(kind=st.sampled_from(["partial_refund", "full_refund", "no_action"]), amount=amount_decimal, note=any_text(2000))
@example(kind="partial_refund", amount=Decimal("NaN"), note="")
def test_proposal_make_refuses_or_stores_the_proposal_exactly(mediated_case, agent, kind, amount, note):
    def check(offer):
        stored = Offer.objects.get(pk=offer.pk)
        assert stored.note == note.strip() and stored.made_by_role == Offer.Role.AGENT
        if kind == "partial_refund":
            assert stored.amount == amount

    outcome = refused_or_stored(
        lambda: services.proposal_make(case=mediated_case, agent=agent, kind=kind, amount=amount, note=note), check
    )
    if unstorable(note) or (kind == "partial_refund" and not valid_money(amount, mediated_case.order.amount)):
        assert outcome == "refused"


@HOSTILE
@given(
    outcome=st.sampled_from(["partial_refund", "full_refund", "replacement"]),
    amount=amount_decimal,
    rationale=any_text(5000),
)
@example(outcome="partial_refund", amount=Decimal("10.00"), rationale="Rule 4\x00")
@example(outcome="partial_refund", amount=Decimal("-Infinity"), rationale="Rule 4")
def test_case_decide_refuses_or_stores_the_decision_exactly(mediated_case, agent, outcome, amount, rationale):
    def check(decision):
        stored = Decision.objects.get(pk=decision.pk)
        assert stored.rationale == rationale.strip() and stored.outcome == outcome
        if outcome == "partial_refund":
            assert stored.amount == amount
            assert Case.objects.get(pk=mediated_case.pk).refund_amount == amount

    result = refused_or_stored(
        lambda: services.case_decide(
            case=mediated_case, agent=agent, outcome=outcome, amount=amount, rationale=rationale
        ),
        check,
    )
    bad_amount = outcome == "partial_refund" and not valid_money(amount, mediated_case.order.amount)
    if bad_amount or not rationale.strip() or unstorable(rationale):
        assert result == "refused"


@HOSTILE
@given(note=any_text(2000))
def test_evidence_request_refuses_or_stores_the_note_exactly(mediated_case, agent, note):
    def check(request):
        assert EvidenceRequest.objects.get(pk=request.pk).note == note.strip()

    outcome = refused_or_stored(
        lambda: services.evidence_request_create(
            case=mediated_case,
            agent=agent,
            party=mediated_case.seller,
            note=note,
            due_at=timezone.now() + EVIDENCE_DUE,
        ),
        check,
    )
    if unstorable(note) or not note.strip():
        assert outcome == "refused"


@HOSTILE
@given(description=any_text(300))
def test_evidence_add_refuses_or_stores_the_description_exactly(open_case, description):
    def check(stored):
        assert [Evidence.objects.get(pk=item.pk).description for item in stored] == [description.strip()]

    outcome = refused_or_stored(
        lambda: evidence_add(case=open_case, uploader=open_case.buyer, files=[photo()], description=description), check
    )
    if len(description.strip()) > 300 or unstorable(description):
        assert outcome == "refused"
