"""Form pieces shared by the pages of several apps."""

from django import forms

from . import access


class DateInput(forms.DateInput):
    """The browser's date picker, with the ISO value it expects."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def agency_choices(user, *, blank: bool = True) -> list[tuple[str, str]]:
    """Active agencies the user can see, for a select (a province has ~150)."""
    agencies = (access.agencies_visible(user).filter(is_active=True)
                .select_related("region").order_by("region_id", "short_name"))
    choices = [(str(a.pk), f"{a.short_name} · {a.region.name}") for a in agencies]
    return [("", "—"), *choices] if blank else choices
