from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "refloop.network"
    label = "network"
    verbose_name = "Referral partner directory"
