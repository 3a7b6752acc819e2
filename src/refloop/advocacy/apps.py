from django.apps import AppConfig


class AdvocacyConfig(AppConfig):
    name = "refloop.advocacy"
    label = "advocacy"
    verbose_name = "Advocacy (the patient's and the referring office's voice)"
