"""The page forms under hostile input, on their own: validating never raises, and what a form
accepts is what its service can store (finite money with two places within the limits, text
within its length with no NUL)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disputes.forms import (
    AppealForm,
    DecideForm,
    EvidenceRequestForm,
    InternalNoteForm,
    MessageForm,
    NoteForm,
    OfferForm,
    PartyMessageForm,
    ProposalForm,
    ReturnShippedForm,
)
from tests.disputes.portal.helpers import token
from tests.hostile.conftest import HOSTILE
from tests.hostile.payloads import amount_string, any_text

pytestmark = pytest.mark.django_db

MONEY_CEILING = Decimal("9999999999.99")
TEXT_FORMS = [
    (MessageForm, "body"),
    (PartyMessageForm, "body"),
    (InternalNoteForm, "body"),
    (NoteForm, "note"),
    (AppealForm, "grounds"),
    (ReturnShippedForm, "carrier"),
    (ReturnShippedForm, "tracking_number"),
]


def fill(form_class, **data):
    filled = {"submission": token(), "carrier": "DHL", "tracking_number": "JD1", **data}
    return form_class(data=filled)


@HOSTILE
@given(which=st.sampled_from(TEXT_FORMS), text=any_text(5000))
def test_text_forms_accept_only_storable_text_within_their_limit(which, text):
    form_class, field = which
    form = fill(form_class, **{field: text})

    if form.is_valid():
        cleaned = form.cleaned_data[field]
        assert "\x00" not in cleaned
        assert len(cleaned) <= form.fields[field].max_length
        assert cleaned == text.strip()
    else:
        assert form.errors


@HOSTILE
@given(
    form_class=st.sampled_from([OfferForm, ProposalForm, DecideForm]),
    amount=amount_string,
    note=any_text(2000),
)
def test_money_forms_accept_only_finite_amounts_with_two_places(form_class, amount, note):
    kind = {"kind": "partial_refund"} if form_class is not DecideForm else {"outcome": "partial_refund"}
    text = {"rationale": note} if form_class is DecideForm else {"note": note}
    form = fill(form_class, amount=amount, **kind, **text)

    if form.is_valid():
        value = form.cleaned_data["amount"]
        assert value is None or (
            value.is_finite() and Decimal("0.01") <= value <= MONEY_CEILING and value == value.quantize(Decimal("0.01"))
        )
    else:
        assert form.errors


@HOSTILE
@given(due_at=st.one_of(amount_string, any_text(100)), note=any_text(2000), party=any_text(20))
def test_evidence_request_form_never_raises(mediated_case, due_at, note, party):
    form = EvidenceRequestForm(
        data={"submission": token(), "party": party, "note": note, "due_at": due_at}, case=mediated_case
    )

    if form.is_valid():
        assert form.cleaned_data["party"] in (mediated_case.buyer, mediated_case.seller)
    else:
        assert form.errors
