from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "refloop.core"
    label = "core"
    verbose_name = "Users, roles and audit"
