from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "refloop.analytics"
