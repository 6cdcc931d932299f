from .services import regions_load


def build(ctx) -> None:
    result = regions_load(actor=None)
    ctx.say(f"Regions: {result.total:,} in {result.edition} ({result.added:,} added)")
