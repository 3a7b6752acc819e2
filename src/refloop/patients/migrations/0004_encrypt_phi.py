"""Encrypt patient demographics in place and replace the plaintext name key with blind
indexes (refloop.core.encryption).

The columns first become plain text (ciphertext is longer than the old limits, and a
date column cannot hold it), then every row is rewritten in batches: ciphertext in the
PHI columns, HMACs in the keys. Reversing decrypts the rows and restores the old types.
"""

import datetime

from django.db import migrations, models

import refloop.core.encryption
import refloop.core.validation
from refloop.core.encryption import blind_index, decrypt, encrypt
from refloop.patients.models import normalized_name

BATCH = 500
PHI = (
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "insurance_member_id",
)


def _batches(Patient):
    last = 0
    while True:
        rows = list(Patient.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def encrypt_rows(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    for rows in _batches(Patient):
        for patient in rows:
            born = str(patient.date_of_birth)
            patient.name_key = blind_index(
                "patient.name", normalized_name(patient.first_name, patient.last_name)
            )
            patient.last_name_key = blind_index(
                "patient.last_name", normalized_name("", patient.last_name).strip()
            )
            patient.birth_key = blind_index("patient.date_of_birth", born)
            patient.date_of_birth = born
            for name in PHI:
                setattr(patient, name, encrypt(getattr(patient, name)))
        Patient.objects.bulk_update(rows, [*PHI, "name_key", "last_name_key", "birth_key"])


def decrypt_rows(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    for rows in _batches(Patient):
        for patient in rows:
            for name in PHI:
                setattr(patient, name, decrypt(getattr(patient, name)))
            patient.name_key = normalized_name(patient.first_name, patient.last_name)
            datetime.date.fromisoformat(patient.date_of_birth)  # fails here, not in ALTER
        Patient.objects.bulk_update(rows, [*PHI, "name_key"])


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_phone_numbers_checked")]

    operations = [
        migrations.RemoveIndex(model_name="patient", name="patients_pa_name_ke_2ba4fd_idx"),
        migrations.AlterField(
            model_name="patient",
            name="name_key",
            field=models.CharField(editable=False, max_length=170),
        ),
        *[
            migrations.AlterField(
                model_name="patient", name=name, field=models.TextField(blank=True)
            )
            for name in PHI
        ],
        migrations.AddField(
            model_name="patient",
            name="last_name_key",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="patient",
            name="birth_key",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AlterField(
            model_name="patient",
            name="name_key",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="patient",
            name="first_name",
            field=refloop.core.encryption.EncryptedCharField(max_length=80),
        ),
        migrations.AlterField(
            model_name="patient",
            name="last_name",
            field=refloop.core.encryption.EncryptedCharField(max_length=80),
        ),
        migrations.AlterField(
            model_name="patient",
            name="date_of_birth",
            field=refloop.core.encryption.EncryptedDateField(),
        ),
        migrations.AlterField(
            model_name="patient",
            name="phone",
            field=refloop.core.encryption.EncryptedCharField(
                blank=True, max_length=30, validators=[refloop.core.validation.validate_phone]
            ),
        ),
        migrations.AlterField(
            model_name="patient",
            name="email",
            field=refloop.core.encryption.EncryptedEmailField(blank=True, max_length=254),
        ),
        migrations.AlterField(
            model_name="patient",
            name="address",
            field=refloop.core.encryption.EncryptedCharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="patient",
            name="insurance_member_id",
            field=refloop.core.encryption.EncryptedCharField(blank=True, max_length=40),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["name_key", "birth_key"], name="patient_identity_idx"),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["last_name_key", "birth_key"], name="patient_last_name_idx"),
        ),
    ]
