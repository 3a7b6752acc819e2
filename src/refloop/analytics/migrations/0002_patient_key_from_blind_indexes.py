"""Facts' patient keys are now derived from the patients' blind indexes (name and birth
date HMACs) rather than from the plaintext name key, which encryption removed: the keys
of facts already built are recomputed so old and new facts group the same patients."""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations

BATCH = 2000


def recompute_patient_keys(apps, schema_editor):
    Fact = apps.get_model("analytics", "ReferralFact")
    Referral = apps.get_model("referrals", "Referral")
    secret = settings.SECRET_KEY.encode()
    last = 0
    while True:
        facts = list(
            Fact.objects.filter(referral_id__gt=last)
            .order_by("referral_id")
            .values_list("referral_id", flat=True)[:BATCH]
        )
        if not facts:
            return
        keys = Referral.objects.filter(pk__in=facts).values_list(
            "pk", "patient__name_key", "patient__birth_key"
        )
        for referral_id, name_key, birth_key in keys:
            message = f"{name_key}|{birth_key}".encode()
            Fact.objects.filter(referral_id=referral_id).update(
                patient_key=hmac.new(secret, message, hashlib.sha256).hexdigest()
            )
        last = facts[-1]


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("patients", "0004_encrypt_phi"),
        ("referrals", "0008_encrypt_clinical_text_and_documents"),
    ]

    operations = [migrations.RunPython(recompute_patient_keys, migrations.RunPython.noop)]
