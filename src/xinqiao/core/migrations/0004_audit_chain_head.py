"""Create the audit chain head row up front, so the first two concurrent events cannot both create it."""

from django.db import migrations


def create_head(apps, schema_editor):
    head_model = apps.get_model("core", "AuditChainHead")
    head_model.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_append_only")]
    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
