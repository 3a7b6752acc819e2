"""The Stark limits CMS has published and the default visit topics.

The non-monetary compensation limit (42 CFR 411.357(k)), as CMS published it for each
calendar year; an admin adds each January's new figure.
"""

from decimal import Decimal

from django.db import migrations

LIMITS = {
    2023: Decimal("489.00"),
    2024: Decimal("507.00"),
    2025: Decimal("519.00"),
    2026: Decimal("535.00"),
}
TOPICS = (
    "Access and scheduling",
    "New service or location",
    "Complaint",
    "Education on what we treat",
    "Thank-you",
    "Referral process",
)


def add(apps, schema_editor):
    StarkLimit = apps.get_model("outreach", "StarkLimit")
    Topic = apps.get_model("outreach", "Topic")
    for year, amount in LIMITS.items():
        StarkLimit.objects.get_or_create(year=year, defaults={"amount": amount})
    for position, name in enumerate(TOPICS):
        Topic.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("outreach", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
