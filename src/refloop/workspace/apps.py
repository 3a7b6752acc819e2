from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "refloop.workspace"
    label = "workspace"
    verbose_name = "Coordinator workspace"

    def ready(self):
        from refloop.workspace import auth_audit  # noqa: F401  (connects the receivers)
        from refloop.workspace.mfa import checks  # noqa: F401  (registers the deploy check)
