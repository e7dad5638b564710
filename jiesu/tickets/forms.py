"""Forms for the plain order pages. They only parse input; the services validate and act."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AffectedGroup, AppealType, CallbackOutcome, Channel, Resolution, Satisfaction, Urgency

# The intake service's field names (ServiceError.on) → the input names of every intake form (console, portal),
# so that a refusal is shown next to its field.
INTAKE_INPUTS = {
    "title": "title",
    "content": "content",
    "address": "address",
    "name": "requester_name",
    "phone": "requester_phone",
    "category": "category_code",
    "street": "street_code",
    "reply": "answer",
}


class IntakeForm(forms.Form):
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    appeal_type = forms.ChoiceField(label=_("appeal type"), choices=AppealType.choices)
    requester_name = forms.CharField(label=_("Requester name"), required=False)
    requester_phone = forms.CharField(label=_("Phone"), required=False)
    title = forms.CharField(label=_("Title"), required=False)
    content = forms.CharField(label=_("Content"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    category_code = forms.CharField(label=_("Category code"), required=False)
    address = forms.CharField(label=_("Address"), required=False)
    street_code = forms.CharField(label=_("Street/township code"), required=False)
    urgency = forms.ChoiceField(label=_("urgency"), choices=Urgency.choices)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)


class ActionForm(forms.Form):
    """All fields any action may take; each action's template shows only its own."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(required=False)
    text = forms.CharField(required=False)
    lead_code = forms.CharField(required=False)
    assist_codes = forms.CharField(required=False)
    department_codes = forms.CharField(required=False)
    master_number = forms.CharField(required=False)
    decline_reason = forms.CharField(required=False, max_length=16)
    caller_phone = forms.CharField(required=False, max_length=32)
    appeal_code = forms.CharField(required=False, max_length=16)
    handler_id = forms.IntegerField(required=False)
    requested_due_at = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    respond_by = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    outcome = forms.ChoiceField(choices=CallbackOutcome.choices, required=False)
    contacted = forms.ChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))], required=False)
    resolution = forms.ChoiceField(choices=Resolution.choices, required=False)
    satisfaction = forms.ChoiceField(choices=Satisfaction.choices, required=False)
    tags = forms.MultipleChoiceField(choices=AffectedGroup.choices, required=False)

    def codes(self, field: str) -> list[str]:
        return [c for c in self.cleaned_data.get(field, "").replace("，", ",").replace(" ", ",").split(",") if c]
