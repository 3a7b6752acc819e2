from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "refloop.intake"
    label = "intake"
    verbose_name = "Document intake (fax, upload, watched folder)"
