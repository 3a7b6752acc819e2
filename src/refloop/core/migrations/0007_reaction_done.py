"""The record of which reactions to an event have run (refloop.core.reactions)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_audit_hash_chain"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReactionDone",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("event_model", models.CharField(max_length=60)),
                ("event_id", models.BigIntegerField()),
                ("handler", models.CharField(max_length=150)),
                ("done_at", models.DateTimeField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("event_model", "event_id", "handler"), name="reaction_once"
                    )
                ],
            },
        ),
    ]
