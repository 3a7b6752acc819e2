from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "refloop.history"
    label = "history"
    verbose_name = "History import and export (years of referrals from a spreadsheet)"
