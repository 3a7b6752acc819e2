"""Encrypt the secure messages between referring practices and coordinators in place."""

from django.db import migrations

import refloop.core.encryption
from refloop.core.migration_ops import encrypt_columns


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
    ]

    operations = [
        encrypt_columns("portal", {"PortalMessage": ["body"]}),
        migrations.AlterField(
            model_name="portalmessage",
            name="body",
            field=refloop.core.encryption.EncryptedTextField(),
        ),
    ]
