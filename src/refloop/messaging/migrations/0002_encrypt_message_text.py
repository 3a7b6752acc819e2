"""Encrypt the outbox's message subjects and bodies in place (a progress report's fax
carries the report; a reminder, the appointment). The subject column first becomes text:
ciphertext is longer than its old 200 characters."""

from django.db import migrations, models

import refloop.core.encryption
from refloop.core.encryption import decrypt_stored, encrypt_plaintext, rewrite_columns


def _rewrite(transform):
    def run(apps, schema_editor):
        Message = apps.get_model("messaging", "Message")
        rewrite_columns(
            Message, ["subject", "body"], transform, connection=schema_editor.connection
        )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="message",
            name="subject",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(_rewrite(encrypt_plaintext), _rewrite(decrypt_stored)),
        migrations.AlterField(
            model_name="message",
            name="body",
            field=refloop.core.encryption.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="message",
            name="subject",
            field=refloop.core.encryption.EncryptedCharField(blank=True, max_length=200),
        ),
    ]
