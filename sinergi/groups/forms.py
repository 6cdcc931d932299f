"""Input forms of the group pages. Types only; rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sinergi.accounts import access
from sinergi.core.forms import DateInput, RegionInput

from .models import PARTNER_KIND_CHOICES, ROLE_CHOICES, GroupKind


class GroupForm(forms.Form):
    code = forms.CharField(label=_("Group code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"))
    village_code = forms.CharField(label=_("Village"), max_length=13, widget=RegionInput())
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
