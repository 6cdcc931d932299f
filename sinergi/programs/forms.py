"""Input forms of the program pages. Types only; rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sinergi.accounts import access
from sinergi.core.forms import RegionInput

from .models import BENEFIT_CHOICES, STATUS_CHOICES, TAG_CHOICES, UNIT_CHOICES


class ProgramForm(forms.Form):
    owner_agency = forms.ChoiceField(label=_("Owner agency"))
    code = forms.CharField(label=_("Code"), max_length=30, help_text=_("e.g. PKH, BPNT, IR"))
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    year_start = forms.IntegerField(label=_("First year"))
    year_end = forms.IntegerField(label=_("Last year"), required=False)
    tags = forms.MultipleChoiceField(label=_("Sector tags"), choices=TAG_CHOICES,
                                     required=False,
                                     widget=forms.SelectMultiple(attrs={"size": 5}))
    unit = forms.ChoiceField(label=_("Beneficiary unit"), choices=UNIT_CHOICES)
    benefit_type = forms.ChoiceField(label=_("Benefit type"), choices=BENEFIT_CHOICES)
    benefit_value = forms.IntegerField(label=_("Benefit value (Rp)"), required=False,
                                       min_value=0)
    rule = forms.CharField(label=_("Eligibility rule"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_('e.g. desil <= 4 and sex == "P" and age >= 18; empty = '
                                       'everyone'))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_agency"].choices = access.agency_choices(user)


class TargetForm(forms.Form):
    region = forms.CharField(label=_("Region code"), max_length=13, widget=RegionInput())
    year = forms.IntegerField(label=_("Year"))
    count = forms.IntegerField(label=_("Target count"), required=False, min_value=0,
                               help_text=_("empty removes the target"))
    budget = forms.IntegerField(label=_("Budget (Rp)"), required=False, min_value=0)


class EnrollForm(forms.Form):
    beneficiary = forms.CharField(label=_("NIK, KK number or group code"), max_length=40)
    year = forms.IntegerField(label=_("Year"))
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, initial="proposed")
    benefit_value = forms.IntegerField(label=_("Benefit value (Rp)"), required=False,
                                       min_value=0)
    allow_ineligible = forms.BooleanField(label=_("Enroll although not eligible"),
                                          required=False)
