from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "refloop.messaging"
    label = "messaging"
    verbose_name = "Messaging and automation"
