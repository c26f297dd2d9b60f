import uuid
import zoneinfo
from decimal import Decimal

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy

from disputes.models import Message, Order, Outcome, Reason, Remedy

MONEY_FIELD = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01")}


class OnceForm(forms.Form):
    """Carries a one-time token so a refresh or a double click does not write twice."""

    submission = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean(self):
        if "submission" in self.errors:  # hidden, so say it where the form shows its errors
            self.add_error(None, "This form is out of date: reload the page and send it again.")
        return super().clean()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


def evidence_help() -> str:
    return f"Photos (JPEG, PNG, WebP) or PDF documents, up to {filesizeformat(settings.EVIDENCE_MAX_BYTES)} each."

EVIDENCE_ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"


class CaseFileForm(OnceForm):
    order = forms.ModelChoiceField(queryset=Order.objects.none(), to_field_name="external_id", empty_label=None)
    reason = forms.ChoiceField(label="What went wrong?", choices=Reason.choices, widget=forms.RadioSelect)
    requested_outcome = forms.ChoiceField(
        label="What would you like?", choices=Remedy.choices, widget=forms.RadioSelect
    )
    amount_claimed = forms.DecimalField(label="How much are you claiming?", **MONEY_FIELD)
    description = forms.CharField(
        label="What happened?", widget=forms.Textarea(attrs={"rows": 5}), max_length=Message.MAX_LENGTH
    )
    evidence = MultipleFileField(
        label="Photos or documents",
        required=False,
        help_text=lazy(evidence_help, str)(),
        widget=MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )

    def __init__(self, *args, orders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = orders
        self.fields["order"].label_from_instance = lambda o: (
            f"{o.item_title} · {o.external_id} · {o.amount} {o.currency}"
        )


class MessageForm(OnceForm):
    body = forms.CharField(
        label="Your message", widget=forms.Textarea(attrs={"rows": 3}), max_length=Message.MAX_LENGTH
    )


class EvidenceForm(OnceForm):
    files = MultipleFileField(
        label="Add photos or documents",
        help_text=lazy(evidence_help, str)(),
        widget=MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )
    description = forms.CharField(label="What do they show? (optional)", required=False, max_length=300)


# One form per transition a party fires; the fields are the service's parameters.


class ConfirmForm(OnceForm):
    pass


class NoteForm(OnceForm):
    note = forms.CharField(
        label="Anything to add? (optional)", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class OfferForm(OnceForm):
    kind = forms.ChoiceField(
        label="Offer",
        choices=[
            (Outcome.PARTIAL_REFUND, "Partial refund"),
            (Outcome.RETURN_AND_REFUND, "Return and refund"),
            (Outcome.REPLACEMENT, "Replacement"),
        ],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(label="Refund amount", required=False, help_text="For a refund.", **MONEY_FIELD)
    return_address = forms.CharField(
        label="Return address",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Where the item goes back to, for a return.",
        max_length=1000,
    )
    note = forms.CharField(
        label="Message to the buyer (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AppealForm(OnceForm):
    grounds = forms.CharField(
        label="Why should we look again?", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


ACTION_FORMS = {
    "make_offer": OfferForm,
    "accept_claim": ConfirmForm,
    "decline_claim": NoteForm,
    "accept_offer": ConfirmForm,
    "decline_offer": NoteForm,
    "escalate": NoteForm,
    "confirm_return": ConfirmForm,
    "appeal": AppealForm,
    "withdraw": NoteForm,
}


class ReturnShippedForm(OnceForm):
    carrier = forms.CharField(max_length=100)
    tracking_number = forms.CharField(max_length=100)


class ProposalAnswerForm(OnceForm):
    answer = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])


class SurveyForm(OnceForm):
    score = forms.TypedChoiceField(
        label="How well did we handle this case?",
        coerce=int,
        widget=forms.RadioSelect,
        choices=[(5, "5 · Very well"), (4, "4"), (3, "3"), (2, "2"), (1, "1 · Very badly")],
    )
    comment = forms.CharField(
        label="Anything we should know? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _time_zone_choices():
    return [("", "Use my browser's time zone")] + [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(label="Time zone", choices=_time_zone_choices, required=False)
