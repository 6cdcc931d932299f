"""Input forms of the monitoring pages. Types only; rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sinergi.core.forms import DateInput, RegionInput

from .models import KIND_CHOICES, STATUS_CHOICES


class RupiahInput(forms.TextInput):
    """A rupiah amount: the phone's number pad, digits only, no spinner."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "numeric", "autocomplete": "off", "size": 14,
                          **(attrs or {})})


def _rupiah(label, required=False):
    return forms.CharField(label=label, required=required, max_length=20, widget=RupiahInput())


class RoundForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES)
    starts_on = forms.DateField(label=_("Period start"), widget=DateInput())
    ends_on = forms.DateField(label=_("Period end"), widget=DateInput())
    region = forms.CharField(label=_("Region"), max_length=13, widget=RegionInput())
    owner_agency = forms.TypedChoiceField(label=_("Owner agency"), coerce=int)
    instrument = forms.CharField(label=_("Instrument version"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_agency"].choices = list(agencies)


class IncomeForm(forms.Form):
    wages = forms.CharField(label=_("Wages / salary (Rp per month)"), required=False,
                            max_length=20, widget=RupiahInput({"autofocus": True}))
    business = _rupiah(_("Own business (Rp per month)"))
    farming = _rupiah(_("Farming / fishing (Rp per month)"))
    transfers = _rupiah(_("Transfers and assistance (Rp per month)"))
    other = _rupiah(_("Other income (Rp per month)"))
    expenditure = _rupiah(_("Expenditure (Rp per month, optional)"))
    assets = _rupiah(_("Assets (Rp, optional)"))
    enumerator = forms.CharField(label=_("Enumerator"), max_length=120, required=False)
    recorded_on = forms.DateField(label=_("Date"), required=False, widget=DateInput())
    confirm = forms.BooleanField(label=_("The amounts are right (far from the village's "
                                         "others, checked)"), required=False)


class BusinessForm(forms.Form):
    turnover = _rupiah(_("Turnover (Rp per month)"), required=True)
    costs = _rupiah(_("Costs (Rp per month)"), required=True)
    profit = forms.CharField(label=_("Profit (Rp per month; empty: turnover minus costs)"),
                             required=False, max_length=20)
    members_active = forms.IntegerField(label=_("Active members"), required=False, min_value=0)
    members_total = forms.IntegerField(label=_("Members in total"), required=False,
                                       min_value=0)
    products = forms.CharField(label=_("Products"), max_length=300, required=False)
    partner_sales = _rupiah(_("Sales to market partners (Rp per month)"))
    recorded_on = forms.DateField(label=_("Date"), required=False, widget=DateInput())


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES)
