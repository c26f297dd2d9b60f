import uuid
import zoneinfo
from decimal import Decimal

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join

from disputes.models import Message, Order, Outcome, Reason, Remedy

MONEY_FIELD = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01")}


class HiddenInput(forms.HiddenInput):
    """Django's hidden input, written without the form renderer's templates.

    Every form on a page carries one (the one-time token below), and rendering the widget's three
    templates cost more than a row of the queue. The markup is the same as
    django/forms/widgets/input.html's."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        # An attribute set to True is written as its bare name; one set to False is left out.
        shown_attrs = [
            (key, "" if v is True else format_html('="{}"', v)) for key, v in widget["attrs"].items() if v is not False
        ]
        attrs = format_html_join("", " {}{}", shown_attrs)
        return format_html('<input type="hidden" name="{}"{}{}>', widget["name"], shown, attrs)


class OnceForm(forms.Form):
    """Carries a one-time token so a refresh or a double click does not write twice."""

    submission = forms.UUIDField(widget=HiddenInput, initial=uuid.uuid4)

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


def order_choice_label(order: Order) -> str:
    label = f"{order.item_title} · {order.external_id} · {order.amount} {order.currency}"
    if order.status == Order.Status.CANCELLED:  # told before a reason is picked: case_file takes only "billing"
        return f"{label} · cancelled: billing problems only"
    return label


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

    def __init__(self, *args, orders, offered, named=None, **kwargs):
        """`orders` are those the buyer may name; the list shows only `offered`, plus the order named,
        selected: `named` (one of `orders`, from a link) or the valid one sent."""
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = orders
        self.fields["order"].label_from_instance = order_choice_label
        self.offered = list(offered)
        self.named_order = None  # the page speaks of it, also after the service refuses it
        if named is not None:
            self.fields["order"].initial = named
            self._name(named)
        self._show_offered()

    def clean_order(self):
        order = self.cleaned_data["order"]
        self._name(order)
        self._show_offered()
        return order

    def _name(self, order):
        self.named_order = order
        if order not in self.offered:  # named although not offered: keep it listed, first
            self.offered.insert(0, order)

    def _show_offered(self):
        # Not the field's own choices: those would list every order the queryset allows.
        field = self.fields["order"]
        field.widget.choices = [(field.prepare_value(o), field.label_from_instance(o)) for o in self.offered]


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


# The staff console. Each form carries what its service takes; the view makes the one call.


class PartyMessageForm(OnceForm):
    body = forms.CharField(
        label="Message to the buyer and the seller",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=Message.MAX_LENGTH,
    )


class InternalNoteForm(OnceForm):
    body = forms.CharField(
        label="Internal note (agents only)",
        help_text="Never shown to the buyer or the seller.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=Message.MAX_LENGTH,
    )


class CannedReplyForm(forms.Form):
    """Not a write: it fills the message to the parties with a reply, placeholders filled."""

    reply = forms.ModelChoiceField(label="Canned reply", queryset=None, empty_label=None)

    def __init__(self, *args, replies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reply"].queryset = replies


def _local_datetime_widget():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EvidenceRequestForm(OnceForm):
    party = forms.ChoiceField(label="Ask", widget=forms.RadioSelect)
    note = forms.CharField(
        label="What do you need?", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    due_at = forms.DateTimeField(
        label="Needed by", widget=_local_datetime_widget(), help_text="In your time zone."
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["party"].choices = [
            ("buyer", f"The buyer, {case.buyer.get_full_name() or case.buyer.username}"),
            ("seller", f"The seller, {case.seller.get_full_name() or case.seller.username}"),
        ]

    def clean_party(self):
        return self.case.buyer if self.cleaned_data["party"] == "buyer" else self.case.seller


class ProposalForm(OnceForm):
    kind = forms.ChoiceField(label="Propose", choices=Outcome.choices, widget=forms.RadioSelect)
    amount = forms.DecimalField(
        label="Refund amount",
        required=False,
        help_text="For a partial refund (a full refund is the order amount).",
        **MONEY_FIELD,
    )
    note = forms.CharField(
        label="Why this is fair (shown to both parties)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecideForm(OnceForm):
    outcome = forms.ChoiceField(label="Outcome", choices=Outcome.choices, widget=forms.RadioSelect)
    amount = forms.DecimalField(
        label="Refund amount",
        required=False,
        help_text="For a partial refund (a full refund is the order amount).",
        **MONEY_FIELD,
    )
    rationale = forms.CharField(
        label="Rationale",
        help_text="Binding and shown to both parties: cite the rule of the policy it rests on.",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReassignForm(OnceForm):
    agent = forms.ModelChoiceField(label="Hand to", queryset=None, empty_label=None)

    def __init__(self, *args, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agents
        self.fields["agent"].label_from_instance = lambda user: user.get_full_name() or user.username


class AvailabilityForm(OnceForm):
    available = forms.TypedChoiceField(
        choices=[("1", "Available"), ("0", "Away")], coerce=lambda value: value == "1", widget=HiddenInput
    )
