from django.db import migrations, models
from django.db.models import Count


def fill_latest(apps, schema_editor):
    """Give the most recent edition its per-level counts, as a load would."""
    Region = apps.get_model("regions", "Region")
    RegionEdition = apps.get_model("regions", "RegionEdition")
    latest = RegionEdition.objects.order_by("-loaded_at").first()
    if latest is None:
        return
    counts = (
        Region.objects.filter(retired_in="").values_list("level").annotate(n=Count("code"))
        .order_by()
    )
    latest.active_by_level = {str(level): n for level, n in counts}
    latest.save(update_fields=["active_by_level"])


class Migration(migrations.Migration):

    dependencies = [
        ("regions", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="regionedition",
            name="active_by_level",
            field=models.JSONField(blank=True, default=dict,
                                   verbose_name="current regions by level"),
        ),
        migrations.RunPython(fill_latest, migrations.RunPython.noop),
    ]
