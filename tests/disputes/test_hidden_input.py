"""The forms' hidden input writes what Django's template-rendered HiddenInput writes."""

import uuid

import pytest
from django import forms

from disputes.forms import AvailabilityForm, ConfirmForm, HiddenInput


@pytest.mark.parametrize(
    "name, value, attrs",
    [
        ("submission", uuid.UUID("6f1c1b52-3c1e-4a53-9d0b-4c1f0d7e2a10"), {"id": "take-next-submission"}),
        ("empty", None, None),
        ("quoted", 'say "<hi>" & bye', {"id": "x", "data-flag": True, "dropped": False, "title": "a&b"}),
        ("number", 5, {"class": "one two"}),
    ],
)
def test_same_markup_as_djangos_widget(name, value, attrs):
    assert HiddenInput(attrs=attrs).render(name, value) == forms.HiddenInput(attrs=attrs).render(name, value)


def test_the_forms_tokens_are_written_with_their_ids():
    form = ConfirmForm(auto_id="take-next-%s", initial={"submission": "6f1c1b52-3c1e-4a53-9d0b-4c1f0d7e2a10"})
    availability = AvailabilityForm(auto_id="availability-%s", initial={"available": "1"})

    assert str(form["submission"]) == (
        '<input type="hidden" name="submission" value="6f1c1b52-3c1e-4a53-9d0b-4c1f0d7e2a10" id="take-next-submission">'
    )
    assert str(availability["available"]) == (
        '<input type="hidden" name="available" value="1" id="availability-available">'
    )
