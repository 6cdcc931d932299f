"""Forms of the imports pages."""

from django import forms
from django.utils.translation import gettext_lazy

from sinergi.core.forms import RegionInput

from .models import FORMAT_CHOICES, ON_ERROR_CHOICES


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (.xlsx or .csv)"))
    file_format = forms.ChoiceField(label=gettext_lazy("Format"), choices=FORMAT_CHOICES,
                                    initial="auto")
    region = forms.CharField(label=gettext_lazy("Region of the list"), max_length=13,
                             required=False, widget=RegionInput())
    village = forms.CharField(label=gettext_lazy("Village (for OpenSID files)"),
                              max_length=13, required=False, widget=RegionInput())
    on_error = forms.ChoiceField(label=gettext_lazy("Rows with errors"),
                                 choices=ON_ERROR_CHOICES, initial="skip")
    complete_list = forms.BooleanField(
        label=gettext_lazy("This is the complete list of the region (persons missing from "
                           "it are proposed as gone)"), required=False)
