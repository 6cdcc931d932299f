"""Input forms of the indicator pages. Types only; rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sinergi.core.forms import RegionInput

from . import dimensions
from .models import (
    DIRECTION_CHOICES,
    DOCUMENT_CHOICES,
    FREQUENCY_CHOICES,
    KIND_CHOICES,
    ROLLUP_CHOICES,
    SOURCE_CHOICES,
    YESNO,
)


class IndicatorForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=30)
    name_id = forms.CharField(label=_("Name (Indonesian)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES)
    unit = forms.CharField(label=_("Unit"), max_length=40, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=SOURCE_CHOICES)
    agency = forms.CharField(label=_("Responsible agency (short name)"), max_length=40,
                             required=False)
    definition = forms.CharField(label=_("Definition"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    concept = forms.CharField(label=_("Concept"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    formula = forms.CharField(label=_("Formula in words"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    numerator = forms.CharField(label=_("Numerator"), max_length=200, required=False)
    denominator = forms.CharField(label=_("Denominator"), max_length=200, required=False)
    interpretation = forms.CharField(label=_("Interpretation"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 2}))
    direction = forms.ChoiceField(label=_("Direction"), choices=DIRECTION_CHOICES)
    decimals = forms.IntegerField(label=_("Decimals"), min_value=0, max_value=4, initial=1)
    rollup = forms.ChoiceField(label=_("Roll-up"), choices=ROLLUP_CHOICES)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=FREQUENCY_CHOICES)
    disaggregations = forms.MultipleChoiceField(
        label=_("Disaggregations"), required=False, choices=dimensions.choices(),
        widget=forms.CheckboxSelectMultiple)
    valid_min = forms.DecimalField(label=_("Lowest plausible value"), required=False)
    valid_max = forms.DecimalField(label=_("Highest plausible value"), required=False)
    reference = forms.CharField(label=_("Reference"), max_length=300, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_disaggregations(self):
        return ",".join(self.cleaned_data["disaggregations"])


class ValueForm(forms.Form):
    region = forms.CharField(label=_("Region"), max_length=13, widget=RegionInput())
    period = forms.CharField(label=_("Period"), max_length=8,
                             help_text=_("A year (2025), semester (2025-S1), quarter (2025-Q3) "
                                         "or month (2025-03), as the indicator is published."))
    value = forms.CharField(label=_("Value"), max_length=30, required=False,
                            help_text=_("Or give the numerator and denominator below."))
    numerator = forms.CharField(label=_("Numerator"), max_length=30, required=False)
    denominator = forms.CharField(label=_("Denominator"), max_length=30, required=False)
    lower = forms.CharField(label=_("Interval, lower"), max_length=30, required=False)
    upper = forms.CharField(label=_("Interval, upper"), max_length=30, required=False)
    source_note = forms.CharField(label=_("Source"), max_length=200, required=False,
                                  help_text=_("e.g. BPS, Susenas Maret 2025"))


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Excel or CSV file"))
    source_note = forms.CharField(label=_("Source"), max_length=200, required=False)


class FactsImportForm(forms.Form):
    file = forms.FileField(label=_("Excel or CSV file"))
    year = forms.CharField(label=_("Year"), max_length=8,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 6}),
                           help_text=_("The year the answers are for."))


class TargetForm(forms.Form):
    region = forms.CharField(label=_("Region"), max_length=13, widget=RegionInput())
    period = forms.CharField(label=_("Target period"), max_length=8,
                             widget=forms.TextInput(attrs={"placeholder": "2029"}),
                             help_text=_("The year (or semester, quarter, month) the target "
                                         "is for, e.g. 2029 for the end of an RPJMD."))
    target = forms.CharField(label=_("Target"), max_length=30)
    baseline = forms.CharField(label=_("Baseline"), max_length=30, required=False)
    baseline_period = forms.CharField(label=_("Baseline period"), max_length=8, required=False,
                                      widget=forms.TextInput(attrs={"placeholder": "2024"}))
    document = forms.ChoiceField(label=_("Source document"), choices=DOCUMENT_CHOICES)
    document_note = forms.CharField(label=_("Document"), max_length=200, required=False,
                                    help_text=_("e.g. RPJMD 2025-2029, page 112"))


class FactsForm(forms.Form):
    """One field per village fact: yes/no facts as a choice, counts as a number."""

    def __init__(self, *args, indicators, **kwargs):
        super().__init__(*args, **kwargs)
        for indicator in indicators:
            if indicator.kind == YESNO:
                self.fields[indicator.code] = forms.ChoiceField(
                    label=indicator.name, required=False,
                    choices=[("", _("not known")), ("1", _("yes")), ("0", _("no"))])
            else:
                self.fields[indicator.code] = forms.IntegerField(
                    label=f"{indicator.name} ({indicator.unit})" if indicator.unit
                    else indicator.name, required=False, min_value=0)
