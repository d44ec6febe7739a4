from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("signals_ingest", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="auth_method",
            field=models.CharField(
                choices=[("token", "API token"), ("oauth", "OAuth")], default="token", max_length=8
            ),
        ),
        migrations.AddField(
            model_name="integration",
            name="token_refreshed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="integration",
            name="needs_reconnection",
            field=models.BooleanField(default=False),
        ),
    ]
