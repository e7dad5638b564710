"""The citizens' forms: submit a request, track it, rate the reply."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jiesu.tickets.models import AppealType, Satisfaction


class SubmitForm(forms.Form):
    appeal_type = forms.ChoiceField(label=_("What kind of request"), choices=AppealType.choices)
    category_code = forms.ChoiceField(label=_("What is it about"), choices=[])
    title = forms.CharField(label=_("Title"), max_length=200)
    content = forms.CharField(label=_("Describe the problem"), widget=forms.Textarea(attrs={"rows": 5}))
    address = forms.CharField(label=_("Where"), max_length=255, required=False)
    requester_name = forms.CharField(label=_("Your name (optional)"), max_length=50, required=False)
    requester_phone = forms.CharField(
        label=_("Your phone"), max_length=20, widget=forms.TextInput({"inputmode": "tel"})
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, leaves: list[tuple[str, list[tuple[str, str]]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category_code"].choices = [("", "—"), *leaves]  # type: ignore[attr-defined]


class TrackForm(forms.Form):
    number = forms.CharField(label=_("Ticket number"), max_length=20)
    # The tracking code given at submission; requests made by phone: the last four digits of the phone.
    phone_tail = forms.CharField(
        label=_("Tracking code (requests made by phone: the last four digits of your phone)"),
        min_length=4,
        max_length=16,
        widget=forms.TextInput({"autocomplete": "off", "autocapitalize": "characters"}),
    )


class RateForm(TrackForm):
    satisfaction = forms.ChoiceField(
        label=_("Are you satisfied with the result?"),
        choices=[c for c in Satisfaction.answers() if c[0] != Satisfaction.NOT_RATED],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class AppealDeclineForm(TrackForm):
    reason = forms.CharField(
        label=_("Why should the hotline take it on?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
