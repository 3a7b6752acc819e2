"""One practice's loop closure and show rate read by practice, not a year of every practice."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_patient_key_from_blind_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="appointmentfact",
            index=models.Index(
                fields=["practice", "starts_at"], name="analytics_a_practic_f8de59_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="referralfact",
            index=models.Index(
                fields=["practice", "seen_at"], name="analytics_r_practic_ebed79_idx"
            ),
        ),
    ]
