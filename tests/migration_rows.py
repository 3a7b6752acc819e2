"""The rows the migrations themselves write (outreach's Topics and StarkLimits, advocacy's
Questions, and whatever a later data migration adds), put back after a flush.

A transactional test ends with a flush that empties every table. Run one test at a time,
pytest-django orders the transactional tests last, so no later test missed those rows; run
in parallel (pytest-xdist, `--dist loadfile`), a worker goes on to other files after a
transactional test, and those find the migrations' rows gone. So: once the test database is
migrated, keep a copy of every row in it, and load that copy again after each flush (the
flush's own post_migrate signal, which already recreates content types and permissions).
"""

from django.apps import apps
from django.core import serializers
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate

# Recreated by the flush's post_migrate signal itself.
RECREATED_BY_POST_MIGRATE = {"contenttypes.contenttype", "auth.permission"}

_snapshot: dict[str, str] = {}  # model label -> its rows, serialized


def take(using: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """Copy every row the migrations left in the test database; returns {model: rows}."""
    _snapshot.clear()
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in RECREATED_BY_POST_MIGRATE or model._meta.proxy:
            continue
        rows = model._default_manager.using(using).order_by("pk")
        if rows.exists():
            _snapshot[label] = serializers.serialize("json", rows)
    post_migrate.connect(_restore_after_flush, dispatch_uid="tests.migration_rows")
    return dict(_snapshot)


def restore(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Load the copy again (into emptied tables); returns the labels of the models loaded."""
    loaded = []
    for label, rows in _snapshot.items():
        model = apps.get_model(label)
        if model._default_manager.using(using).exists():
            continue  # not flushed (or already put back)
        for obj in serializers.deserialize("json", rows, using=using):
            obj.save(using=using)
        loaded.append(model)
    if loaded:
        # As loaddata does: the next row a test inserts gets an id after the loaded ones.
        connection = connections[using]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), loaded):
                cursor.execute(sql)
    return [model._meta.label_lower for model in loaded]


def _last_app_with_models():
    return [config for config in apps.get_app_configs() if config.models_module][-1]


def _restore_after_flush(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    # post_migrate is sent once per app, last for the last app: by then content types exist.
    if sender is _last_app_with_models():
        restore(using)
