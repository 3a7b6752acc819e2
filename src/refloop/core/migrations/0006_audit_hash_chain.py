"""The audit log's hash chain (refloop.core.audit_chain): columns, chain heads, and a
chain named `legacy` for the entries written before it, in the order they were written."""

from django.db import migrations, models

from refloop.core.append_only import install, suspended

BATCH = 1000


def chain_existing_entries(apps, schema_editor):
    from refloop.core import audit_chain

    AuditEntry = apps.get_model("core", "AuditEntry")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    db = schema_editor.connection.alias
    ids = list(AuditEntry.objects.using(db).order_by("pk").values_list("pk", flat=True))
    if not ids:
        return
    secret = audit_chain.key()
    head = AuditChainHead(chain="legacy")
    with suspended(schema_editor.connection, "core_auditentry"):
        for start in range(0, len(ids), BATCH):
            batch = list(AuditEntry.objects.using(db).filter(pk__in=ids[start : start + BATCH]))
            batch.sort(key=lambda entry: entry.pk)
            for entry in batch:
                head.seq += 1
                entry.chain, entry.seq = head.chain, head.seq
                values = {name: getattr(entry, name) for name in audit_chain.HASHED_FIELDS}
                entry.hash = audit_chain.link(head.hash, values, secret=secret)
                head.hash = entry.hash
            AuditEntry.objects.using(db).bulk_update(batch, ["chain", "seq", "hash"])
    head.seal = audit_chain.seal(head, secret=secret)
    head.save(using=db)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_apitoken_expiry_required")]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("chain", models.CharField(max_length=24, primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField(default=0)),
                ("hash", models.CharField(blank=True, default="", max_length=64)),
                ("seal", models.CharField(blank=True, default="", max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="auditentry",
            name="chain",
            field=models.CharField(blank=True, default="", max_length=24),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                fields=("chain", "seq"), name="audit_chain_position"
            ),
        ),
        # SQLite rebuilt the table for the new columns, and lost its trigger with it.
        migrations.RunPython(
            lambda apps, schema_editor: install(schema_editor.connection, "core_auditentry"),
            migrations.RunPython.noop,
        ),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
    ]
