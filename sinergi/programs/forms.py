"""Input forms of the program and group pages. Types only; rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sinergi.accounts import access
from sinergi.core.forms import DateInput
from sinergi.groups.models import PARTNER_KIND_CHOICES, ROLE_CHOICES, GroupKind

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
    region = forms.CharField(label=_("Region code"), max_length=13)
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


class GroupForm(forms.Form):
    code = forms.CharField(label=_("Group code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"))
    village_code = forms.CharField(label=_("Village code"), max_length=13)
    agencies = forms.MultipleChoiceField(label=_("Supervising agencies"), required=False,
                                         widget=forms.SelectMultiple(attrs={"size": 5}))
    founded_on = forms.DateField(label=_("Founded"), required=False, widget=DateInput())
    sector = forms.CharField(label=_("Business sector"), max_length=120, required=False)
    products = forms.CharField(label=_("Products"), max_length=300, required=False)
    nib = forms.CharField(label=_("NIB (business ID)"), max_length=20, required=False)
    pirt = forms.CharField(label=_("PIRT permit"), max_length=30, required=False)
    halal = forms.CharField(label=_("Halal certificate"), max_length=40, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.code, k.name) for k in GroupKind.objects.all()]
        self.fields["agencies"].choices = access.agency_choices(user, blank=False)


class MemberForm(forms.Form):
    nik = forms.CharField(label=_("NIK"), max_length=20)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial="anggota")
    joined_on = forms.DateField(label=_("Joined"), required=False, widget=DateInput())


class LevelForm(forms.Form):
    level = forms.CharField(label=_("Level"), max_length=40)
    since = forms.DateField(label=_("Since"), required=False, widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Partner"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=PARTNER_KIND_CHOICES)
    takes = forms.CharField(label=_("What it takes"), max_length=300, required=False)
    since = forms.DateField(label=_("Since"), required=False, widget=DateInput())
