"""API tokens get an expiry date. Tokens issued before expiry existed are given the
default lifetime from the moment of this migration, so none stops working at once."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def give_existing_tokens_the_default_lifetime(apps, schema_editor):
    ApiToken = apps.get_model("core", "ApiToken")
    expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=expires_at)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_append_only")]
    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(
            give_existing_tokens_the_default_lifetime, migrations.RunPython.noop, elidable=True
        ),
    ]
