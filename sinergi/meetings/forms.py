"""Input forms of the meeting pages. Types only; the rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sinergi.accounts import access
from sinergi.core.forms import DateInput, RegionInput

from . import progress
from .models import ISSUE_CATEGORY_CHOICES, KIND_CHOICES, MARK_CANCELLED, MARK_DONE, PROGRESS


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES)
    title = forms.CharField(label=_("Title"), max_length=200)
    theme = forms.CharField(label=_("Theme"), max_length=300, required=False)
    starts_on = forms.DateField(label=_("Date"), widget=DateInput())
    ends_on = forms.DateField(label=_("Until (if more than one day)"), required=False,
                              widget=DateInput())
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    region = forms.CharField(label=_("Region of the government holding it"),
                             max_length=13, widget=RegionInput(),
                             help_text=_("e.g. 19 for the province, 19.04 for a kabupaten"))
    host_agency = forms.ChoiceField(label=_("Host agency"), required=False)
    chair = forms.CharField(label=_("Chair"), max_length=200, required=False)
    minutes = forms.CharField(label=_("Minutes"), required=False,
                              widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host_agency"].choices = access.agency_choices(user)


class CommitmentForm(forms.Form):
    text = forms.CharField(label=_("Commitment"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000)
    agenda_item = forms.ChoiceField(label=_("Agenda item"), required=False)
    owner_agency = forms.ChoiceField(label=_("Owner agency"))
    supporting_agencies = forms.MultipleChoiceField(
        label=_("Supporting agencies"), required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}))
    region = forms.CharField(label=_("Region code"), max_length=13, widget=RegionInput())
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput())
    unit = forms.CharField(label=_("Unit"), max_length=60, required=False,
                           help_text=_("e.g. BUMDes units, villages, persons"))
    baseline = forms.DecimalField(label=_("Baseline"), required=False, max_digits=14,
                                  decimal_places=2)
    target = forms.DecimalField(label=_("Target"), required=False, max_digits=14,
                                decimal_places=2)
    source = forms.ChoiceField(label=_("Progress source"))
    source_param = forms.CharField(label=_("Source parameter"), max_length=60, required=False,
                                   help_text=_("Only for sources that need one, e.g. the "
                                               "highest desil"))

    def __init__(self, *args, user, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_agency"].choices = access.agency_choices(user)
        self.fields["supporting_agencies"].choices = access.agency_choices(user, blank=False)
        self.fields["agenda_item"].choices = [("", "—"), *(
            (str(i.pk), f"{i.desk.name} · {i.title}" if i.desk_id else i.title)
            for i in meeting.agenda.select_related("desk"))]
        self.fields["source"].choices = progress.source_choices()


class ProgressForm(forms.Form):
    kind = forms.ChoiceField(label=_("Report"), choices=[
        (PROGRESS, _("Progress")), (MARK_DONE, _("Mark as done")),
        (MARK_CANCELLED, _("Cancel the commitment"))], initial=PROGRESS)
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput())
    value = forms.DecimalField(label=_("Value reached"), required=False, max_digits=14,
                               decimal_places=2)
    narrative = forms.CharField(label=_("Narrative"), required=False,
                                widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, settle: bool = True, cancel: bool = True, **kwargs):
        """``settle``/``cancel``: offer marking done / cancelling (the page
        offers only what the user may do; the service decides on a post)."""
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (k, label) for k, label in self.fields["kind"].choices
            if (k != MARK_DONE or settle) and (k != MARK_CANCELLED or cancel)]


class ParticipantForm(forms.Form):
    agency = forms.ChoiceField(label=_("Agency"), required=False)
    region = forms.CharField(label=_("Region code"), max_length=13, required=False,
                             widget=RegionInput())
    name = forms.CharField(label=_("Representative"), max_length=120, required=False)
    position = forms.CharField(label=_("Position"), max_length=120, required=False)
    invited = forms.BooleanField(label=_("Invited"), required=False, initial=True)
    attended = forms.BooleanField(label=_("Attended"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = access.agency_choices(user)


class AgendaForm(forms.Form):
    desk = forms.CharField(label=_("Desk"), max_length=120, required=False)
    title = forms.CharField(label=_("Topic"), max_length=300)
    description = forms.CharField(label=_("Description"), required=False)


class IssueForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=ISSUE_CATEGORY_CHOICES)
    region = forms.CharField(label=_("Region code"), max_length=13, required=False,
                             widget=RegionInput())
    description = forms.CharField(label=_("Description"),
                                  widget=forms.Textarea(attrs={"rows": 2}))
    raised_by = forms.CharField(label=_("Raised by"), max_length=120, required=False)


class AttachmentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = forms.FileField(label=_("File"))
