"""Forms of the workbench. They parse and check the shape of input; the services decide the rest."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jiesu.tickets.forms import IntakeForm
from jiesu.tickets.workflow import DispatchState

from .selectors import SupervisionFilter


class IntakeConsoleForm(IntakeForm):
    """The operator's console: the plain intake form plus a direct answer and a repeat-of link."""

    field_order = [
        "requester_phone",
        "requester_name",
        "channel",
        "appeal_type",
        "title",
        "content",
        "address",
        "street_code",
        "category_code",
        "urgency",
        "confidential",
        "answer",
        "merge_into",
    ]
    answer = forms.CharField(
        label=_("Direct answer (inquiries only)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    merge_into = forms.CharField(label=_("Repeat of ticket number"), required=False, max_length=20)
    confidential = forms.BooleanField(
        label=_("Caller asks for confidentiality (保密)"),
        required=False,
        help_text=_("Name and number stay masked for the handling units."),
    )
    # Filled by the side panel: the district of an address whose street is ambiguous (all candidates in one
    # district), so that the ticket keeps its district; and the telephony system's recording id (screen pop).
    district_code = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)
    recording_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=50)
    call = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("title", "content", "category_code"):
            self.fields[name].required = True
        self.fields["requester_phone"].widget.attrs.update({"autofocus": True, "inputmode": "tel"})
        self.fields["category_code"].widget.attrs.update({"list": "leaf-categories", "autocomplete": "off"})
        self.fields["street_code"].widget.attrs.update({"autocomplete": "off"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("answer") and data.get("appeal_type") != "inquiry":
            self.add_error("answer", _("Only an inquiry can be answered directly; dispatch the others."))
        return data


class SupervisionFilterForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("scope"),
        required=False,
        choices=[
            ("overdue", _("Overdue")),
            ("due_soon", _("Due within 24 hours")),
            ("open", _("All open")),
            ("all", _("All")),
        ],
    )
    district = forms.CharField(label=_("district"), required=False, max_length=12)
    street = forms.CharField(label=_("street/township"), required=False, max_length=12)
    unit = forms.CharField(label=_("lead unit"), required=False, max_length=32)
    category = forms.CharField(label=_("category"), required=False, max_length=12)
    state = forms.ChoiceField(
        label=_("dispatch state"), required=False, choices=[("", _("All states")), *DispatchState.choices]
    )
    date_from = forms.DateField(label=_("from"), required=False)
    date_to = forms.DateField(label=_("to"), required=False)

    def filter(self) -> SupervisionFilter:
        if not self.is_valid():
            return SupervisionFilter()
        d = self.cleaned_data
        return SupervisionFilter(
            scope=d["scope"] or "overdue",
            district=d["district"].strip(),
            street=d["street"].strip(),
            unit=d["unit"].strip(),
            category=d["category"].strip(),
            state=d["state"],
            date_from=d["date_from"],
            date_to=d["date_to"],
        )
