"""Every API token has an expiry date (0004 gave the existing ones theirs).

A migration of its own: on PostgreSQL, altering a table in the transaction that just
updated its rows can fail on the pending foreign-key checks."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0004_apitoken_expiry")]
    operations = [
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(help_text="From this moment on the token is refused"),
        ),
    ]
