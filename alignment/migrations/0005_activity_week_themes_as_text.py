from django.db import migrations

from okrsignal.migration_operations import StoreJsonAsText


class Migration(migrations.Migration):
    dependencies = [
        ("alignment", "0004_activity_weeks"),
    ]

    operations = [StoreJsonAsText("activityweek", "themes")]
