from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "refloop.core"
    label = "core"
    verbose_name = "Users, roles and audit"

    def ready(self):
        from refloop.core import (
            links,  # noqa: F401  (registers its deploy check)
            reauth,  # noqa: F401  (marks a fresh sign-in as a confirmation)
            sessions,  # noqa: F401  (starts the session clocks at sign-in)
            throttle,  # noqa: F401  (registers its system checks)
        )
