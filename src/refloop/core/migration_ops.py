"""The operations the "encrypt in place" migrations share: encrypt an app's text columns,
or re-seal its stored files, with the way back (decrypt) as the reverse. Each returns a
`migrations.RunPython` for a migration's `operations` list."""

from django.db import migrations

from refloop.core.encryption import decrypt_stored, encrypt_plaintext, rewrite_columns
from refloop.core.storage import reseal_files


def encrypt_columns(app_label: str, columns: dict[str, list[str]]) -> migrations.RunPython:
    """Encrypt in place the stored text of `columns` (model name: column names) of the
    app's models, model by model in the order given; reversed, decrypt it again."""

    def rewrite(transform):
        def run(apps, schema_editor):
            for model_name, names in columns.items():
                model = apps.get_model(app_label, model_name)
                rewrite_columns(model, names, transform, connection=schema_editor.connection)

        return run

    return migrations.RunPython(rewrite(encrypt_plaintext), rewrite(decrypt_stored))


def encrypt_files(app_label: str, fields: list[tuple[str, str]]) -> migrations.RunPython:
    """Encrypt the stored files of `fields` ((model name, file field name) pairs) of the
    app's models, in the order given; reversed, write them back in clear."""

    def reseal(decrypt: bool):
        def run(apps, schema_editor):
            for model_name, field_name in fields:
                reseal_files(apps.get_model(app_label, model_name), field_name, decrypt=decrypt)

        return run

    return migrations.RunPython(reseal(False), reseal(True))
