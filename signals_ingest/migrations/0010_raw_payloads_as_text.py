from django.db import migrations

from okrsignal.migration_operations import StoreJsonAsText


class Migration(migrations.Migration):
    dependencies = [
        ("signals_ingest", "0009_signal_organization_index_dropped"),
    ]

    operations = [StoreJsonAsText("rawevent", "payload")]
