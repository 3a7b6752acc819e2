from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "refloop.outreach"
    label = "outreach"
    verbose_name = "Outreach (the physician liaison's domain)"
