"""Load the national division codes (2023 edition, province to township) from the shipped file."""

from django.db import migrations


def load(apps, schema_editor):
    from xinqiao.core.regions_loader import load_regions

    load_regions(apps.get_model("core", "Region"))


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop, elidable=False)]
