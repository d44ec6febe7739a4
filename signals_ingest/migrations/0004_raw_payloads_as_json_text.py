from django.db import migrations, transaction
from django.db.utils import NotSupportedError

import signals_ingest.models

RAW_EVENT_TABLE = "signals_ingest_rawevent"


def payloads_compressed_with_lz4(apps, schema_editor):
    """Changing the column's type drops the compression chosen for it (0003): large payloads are compressed
    with lz4 again. Left as it is on a server built without lz4, and on SQLite."""
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute(
                f"ALTER TABLE {RAW_EVENT_TABLE} ALTER COLUMN payload SET COMPRESSION lz4", params=None
            )
    except NotSupportedError:
        pass


class Migration(migrations.Migration):
    dependencies = [
        ("signals_ingest", "0003_ingest_lighter_writes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="rawevent",
            name="payload",
            field=signals_ingest.models.JSONTextField(),
        ),
        migrations.RunPython(payloads_compressed_with_lz4, migrations.RunPython.noop),
    ]
