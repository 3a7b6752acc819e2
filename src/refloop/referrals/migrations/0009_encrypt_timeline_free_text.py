"""Encrypt the free text inside the timeline's event data (notes, reasons' details, what
was missing, why triage chose a department), in place.

The timeline is append-only: its trigger is lifted batch by batch while the rows are
rewritten (migrations run as the tables' owner). SQLite rebuilds the table when the
field changes and loses the trigger, so it is installed again on the way in and out.
"""

from django.db import migrations

import refloop.core.encryption
from refloop.core.append_only import install, suspended
from refloop.core.encryption import decrypt_stored, encrypt_plaintext, in_json, rewrite_columns

TABLE = "referrals_referralevent"
FREE_TEXT = (
    "text",
    "note",
    "missing_info",
    "reason_detail",
    "suggested_alternative",
    "department_reason",
)


def _rewrite(transform):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        rewrite_columns(
            apps.get_model("referrals", "ReferralEvent"),
            ["data"],
            in_json(FREE_TEXT, transform),
            connection=connection,
            each_batch=lambda: suspended(connection, TABLE),
        )

    return run


def _reinstall_trigger(apps, schema_editor):
    install(schema_editor.connection, TABLE)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0008_encrypt_clinical_text_and_documents"),
    ]

    operations = [
        migrations.RunPython(_reinstall_trigger, _reinstall_trigger),
        migrations.AlterField(
            model_name="referralevent",
            name="data",
            field=refloop.core.encryption.EncryptedValuesJSONField(
                blank=True, default=dict, encrypted_keys=FREE_TEXT
            ),
        ),
        migrations.RunPython(_reinstall_trigger, _reinstall_trigger),
        migrations.RunPython(_rewrite(encrypt_plaintext), _rewrite(decrypt_stored)),
    ]
