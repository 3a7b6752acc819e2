from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "refloop.public"
    label = "public"
    verbose_name = "Public pages (how to refer, referral form)"
