from sinergi.regions.models import Region

from .services import agency_seed_defaults


def build(ctx) -> None:
    """The default agencies for the demo province and each of its kab/kota."""
    governments = [ctx.province, *Region.objects.filter(parent_id=ctx.province)
                   .values_list("code", flat=True)]
    created = 0
    for code in governments:
        created += len(agency_seed_defaults(actor=None, region_code=code))
    ctx.say(f"Agencies: {len(governments)} governments, {created} agencies added")
