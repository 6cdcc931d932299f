"""Form pieces shared by the pages of several apps."""

from django import forms
from django.contrib import messages
from django.shortcuts import render

from .errors import SinergiError


class DateInput(forms.DateInput):
    """The browser's date picker, with the ISO value it expects."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RegionInput(forms.TextInput):
    """A region field: type a code, or part of a name and choose among the
    regions of your scope (app.js fills the browser's suggestion list from
    the regions API and shows the chosen region's name)."""

    def __init__(self, attrs=None):
        from django.utils.translation import gettext_lazy

        super().__init__({"data-region-picker": "", "size": 24, "autocomplete": "off",
                          "placeholder": gettext_lazy("name or code, e.g. Koba or 19.04"),
                          **(attrs or {})})


def form_error(form, exc) -> None:
    """Put a service's SinergiError on the form field it names (or the form)."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def labelled(form, exc) -> str:
    """A SinergiError's message led by the label of its field, for messages
    shown away from the form (after a redirect)."""
    field = form.fields.get(exc.field) if exc.field else None
    return f"{field.label}: {exc.message}" if field is not None and field.label else \
        exc.message


def errors_text(form) -> str:
    """All of a form's errors on one line, each led by its field's label."""
    return "; ".join(
        f"{form.fields[f].label}: {' '.join(e)}" if f in form.fields else " ".join(e)
        for f, e in form.errors.items())


def saved(request, form, save, message):
    """The save step of a create or edit page. For a POSTed, valid form it
    runs ``save(cleaned_data)`` (a service call returning the saved object),
    flashes ``message`` (a text, or a function of the object) and returns
    the object; a SinergiError from the service goes on the field it names,
    so the page shows the form again with the reason. None otherwise."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        obj = save(form.cleaned_data)
    except SinergiError as exc:
        form_error(form, exc)
        return None
    messages.success(request, message(obj) if callable(message) else message)
    return obj


def applied(request, form, apply, message: str, failed: str = "%(errors)s") -> None:
    """A small form posted from a detail page, which redirects back: for a
    valid form run ``apply(cleaned_data)`` and flash ``message``; otherwise,
    or when the service refuses, flash what is wrong (each problem led by
    its field's label) inside ``failed``."""
    if not form.is_valid():
        messages.error(request, failed % {"errors": errors_text(form)})
        return
    try:
        apply(form.cleaned_data)
    except SinergiError as exc:
        messages.error(request, failed % {"errors": labelled(form, exc)})
    else:
        messages.success(request, message)


def form_page(request, template: str, form, context: dict):
    """A form page: 400 when it shows errors, so clients and tests see them."""
    return render(request, template, {"form": form, **context},
                  status=400 if form.errors else 200)
