import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("programs", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="CoverageCell",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                ("region_code", models.CharField(max_length=13, verbose_name="region code")),
                ("level", models.PositiveSmallIntegerField(verbose_name="level")),
                ("kind", models.CharField(choices=[("family", "families"), ("person", "persons")],
                                          max_length=6, verbose_name="counted")),
                ("desil", models.PositiveSmallIntegerField(default=0, verbose_name="desil")),
                ("sex", models.CharField(blank=True, max_length=1, verbose_name="sex")),
                ("total", models.PositiveIntegerField(default=0)),
                ("served", models.PositiveIntegerField(default=0)),
                ("eligible", models.PositiveIntegerField(default=0)),
                ("exclusion", models.PositiveIntegerField(default=0)),
                ("inclusion", models.PositiveIntegerField(default=0)),
                ("as_of", models.DateField(verbose_name="eligibility as of")),
                ("computed_at", models.DateTimeField(verbose_name="computed")),
                ("program", models.ForeignKey(blank=True, db_constraint=False, db_index=False,
                                              null=True,
                                              on_delete=django.db.models.deletion.CASCADE,
                                              related_name="+", to="programs.program")),
            ],
            options={
                "verbose_name": "coverage cell",
                "verbose_name_plural": "coverage cells",
                "indexes": [models.Index(fields=["year", "level", "region_code"],
                                         name="coveragecell_year_level")],
            },
        ),
    ]
