from django.db import migrations

from refloop.core.append_only import make_append_only


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]
    operations = [make_append_only("referrals_referralevent")]
