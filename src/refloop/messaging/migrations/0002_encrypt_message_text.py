"""Encrypt the outbox's message subjects and bodies in place (a progress report's fax
carries the report; a reminder, the appointment). The subject column first becomes text:
ciphertext is longer than its old 200 characters."""

from django.db import migrations, models

import refloop.core.encryption
from refloop.core.migration_ops import encrypt_columns


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
        encrypt_columns("messaging", {"Message": ["subject", "body"]}),
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
