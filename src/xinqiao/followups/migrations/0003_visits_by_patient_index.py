"""A covering, partial index of the visits per patient, for the indicator engine's follow-up scan.

``indicators/patient_sql.py`` reads, for every patient, the visits (``outcome = 'visited'``) of a
12-month window in date order with a handful of columns. Without this index PostgreSQL walks
``followup_patient_date`` and fetches every heap page of the table (3.4 GB at 11 million follow-ups);
with it the scan is index-only (docs/operations/scale.md). ``INCLUDE`` is PostgreSQL's; SQLite gets
the same partial index on the key columns. Written as SQL per vendor (not ``Meta.indexes``) because
Django's model check warns about ``include`` on SQLite.
"""

from django.db import migrations

NAME = "followup_visits_by_patient"
KEY = "patient_id, followup_date, id"
INCLUDED = "method, adherence, classification, trouble_count, disaster_count, minor_trouble_count"


def create(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON followups_followup ({KEY}) "
                              f"INCLUDE ({INCLUDED}) WHERE outcome = 'visited'")
    else:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON followups_followup ({KEY}) "
                              f"WHERE outcome = 'visited'")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("followups", "0002_medication_catalogue")]

    operations = [migrations.RunPython(create, drop)]
