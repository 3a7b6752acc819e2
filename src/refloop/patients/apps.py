from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "refloop.patients"
    label = "patients"
    verbose_name = "Patients"
