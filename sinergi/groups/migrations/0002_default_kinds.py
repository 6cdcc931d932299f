"""The group kinds of the domain (docs: domain.md §4) with their level names.

Both are a local setting: kinds and levels can be changed in the admin.
"""

from django.db import migrations

KINDS = [
    ("IR", "Industri Rumahan (IR)", ["Pemula", "Berkembang", "Maju"]),
    ("UPPKA", "UPPKA", ["Dasar", "Berkembang", "Mandiri"]),
    ("KWT", "Kelompok Wanita Tani (KWT)", []),
    ("KUB", "KUB Nelayan", []),
    ("BUMDES", "BUMDes", ["Perintis", "Pemula", "Berkembang", "Maju"]),
    ("POKDARWIS", "Pokdarwis", []),
    ("PATBM", "PATBM", []),
    ("BKB", "Poktan BKB", []),
    ("BKR", "Poktan BKR", []),
    ("BKL", "Poktan BKL", []),
    ("OTHER", "Lainnya", []),
]


def add_kinds(apps, schema_editor):
    GroupKind = apps.get_model("groups", "GroupKind")
    for position, (code, name, levels) in enumerate(KINDS):
        GroupKind.objects.get_or_create(code=code, defaults={
            "name": name, "levels": levels, "position": position})


class Migration(migrations.Migration):
    dependencies = [("groups", "0001_initial")]
    operations = [migrations.RunPython(add_kinds, migrations.RunPython.noop)]
