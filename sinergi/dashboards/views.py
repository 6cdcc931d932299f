"""The home page: public landing, or the home of the signed-in role."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from sinergi.regions.models import RegionEdition

from . import selectors


@require_GET
def home(request):
    """The public landing page, or the home of the signed-in user's role."""
    edition = RegionEdition.objects.order_by("-loaded_at").first()
    if not request.user.is_authenticated:
        # Counted when the edition was loaded, not on every visit.
        counts = edition.active_by_level if edition else {}
        return render(request, "dashboards/home_public.html", {"counts": counts})
    return render(request, "dashboards/home.html", selectors.home(request.user, edition))
