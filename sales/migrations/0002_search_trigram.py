"""Trigram (GIN) indexes for the order search on PostgreSQL: `icontains` on number, e-mail and
customer name compiles to UPPER(col::text) LIKE UPPER(%s), which these indexes serve.
SQLite has no equivalent; there the search scans (fine at demo sizes)."""

from django.db import migrations

COLUMNS = ("number", "customer_email", "customer_name")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "order_{column}_trgm" ON "sales_order" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "order_{column}_trgm"')


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
