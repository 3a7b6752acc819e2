from django.apps import AppConfig


class WebConfig(AppConfig):
    """The shared web kit: the staff-page decorator, the form renderer and shared form fields,
    `words`, the base template and the partials other apps include. It sits above referrals
    (its new-referral fields read referral states and services) and below every feature app;
    it never imports a feature or the workspace."""

    name = "refloop.web"
    label = "web"
    verbose_name = "Web kit"
