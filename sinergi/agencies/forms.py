"""Forms of the agencies pages."""

from django import forms
from django.utils.translation import gettext_lazy

from sinergi.core.forms import RegionInput

from .models import SECTOR_CHOICES


class AgencyForm(forms.Form):
    """Input only; rules live in services.agency_create/agency_update."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    short_name = forms.CharField(label=gettext_lazy("Short name"), max_length=40)
    sector = forms.ChoiceField(label=gettext_lazy("Sector"), choices=SECTOR_CHOICES)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)


class AgencyCreateForm(AgencyForm):
    region = forms.CharField(
        label=gettext_lazy("Region (province or kabupaten/kota)"), max_length=13,
        widget=RegionInput())
