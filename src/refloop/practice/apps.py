from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "refloop.practice"
    label = "practice"
    verbose_name = "This practice: organization, locations, departments"
