from django import forms

from disputes.forms import OnceForm
from disputes.models import Reason
from feedback.models import TradeFeedback


class TradeFeedbackForm(OnceForm):
    rating = forms.ChoiceField(label="Your rating", choices=TradeFeedback.Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label="A short comment (optional)", required=False, max_length=300)


class ReportFilterForm(forms.Form):
    start = forms.DateField(label="Filed from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="Filed until", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.ChoiceField(label="Reason", required=False, choices=[("", "All reasons"), *Reason.choices])

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The end date comes after the start date.")
        return data
