from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("meetings", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="briefjob",
            name="scope_root",
            field=models.CharField(blank=True, default="", max_length=13),
        ),
    ]
