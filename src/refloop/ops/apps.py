from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The top of the house: the worker and the commands that start everything (demo,
    seed_demo, serve, worker). It may import any app; no app imports it."""

    name = "refloop.ops"
    label = "ops"
    verbose_name = "Operations"
