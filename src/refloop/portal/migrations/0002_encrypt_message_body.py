"""Encrypt the secure messages between referring practices and coordinators in place."""

from django.db import migrations

import refloop.core.encryption
from refloop.core.encryption import decrypt_stored, encrypt_plaintext, rewrite_columns


def _rewrite(transform):
    def run(apps, schema_editor):
        PortalMessage = apps.get_model("portal", "PortalMessage")
        rewrite_columns(PortalMessage, ["body"], transform, connection=schema_editor.connection)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_rewrite(encrypt_plaintext), _rewrite(decrypt_stored)),
        migrations.AlterField(
            model_name="portalmessage",
            name="body",
            field=refloop.core.encryption.EncryptedTextField(),
        ),
    ]
