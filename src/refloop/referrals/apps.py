from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "refloop.referrals"
    label = "referrals"
    verbose_name = "Referrals"
