from django.db import migrations

from refloop.core.append_only import make_append_only


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]
    operations = [make_append_only("core_auditentry")]
