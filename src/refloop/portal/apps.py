from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "refloop.portal"
    label = "portal"
    verbose_name = "Referring-practice portal"
