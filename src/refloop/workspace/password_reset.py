"""Forgotten passwords, for staff and portal users alike: a single-use emailed link.

Django's views do the work. The answer never says whether an address has an account,
the email carries no patient data, and the token leaves the address bar at once (the
confirm view moves it into the session). Requests and completed resets are audited.
Both steps go through the sign-in throttle: a request for an address with no account and
a link that does not work count as failures against the client's address.
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.shortcuts import render
from django.urls import path, reverse, reverse_lazy

from refloop.core import audit, throttle
from refloop.core.audit import Touch
from refloop.core.links import absolute_url
from refloop.core.models import User
from refloop.practice.models import Organization


def _throttled(request, refusal: throttle.Refusal):
    context = {"title": "Too many attempts", "message": refusal.message}
    response = render(request, "workspace/error.html", context, status=429)
    response["Retry-After"] = str(refusal.retry_after_seconds)
    return response


class LinkedResetForm(PasswordResetForm):
    """Django's form, with the email's link on BASE_URL rather than the request's host:
    a forged Host header must not steer a reset link elsewhere, and the link is read in
    a mail client, where only the public address works."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        confirm = reverse(
            "password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]}
        )
        context = {**context, "link": absolute_url(confirm)}
        super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class RequestView(auth_views.PasswordResetView):
    form_class = LinkedResetForm
    template_name = "workspace/password_reset/request.html"
    email_template_name = "workspace/password_reset/email.txt"
    subject_template_name = "workspace/password_reset/subject.txt"
    success_url = reverse_lazy("password_reset_sent")

    def post(self, request, *args, **kwargs):
        if refusal := throttle.refusal_for(request):
            return _throttled(request, refusal)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        # Only the ids of the accounts a link went to; the typed address stays out of the log.
        users = list(form.get_users(email))
        for user in users:
            audit.record("auth.password_reset_requested", Touch("user", user.pk), actor=None)
        if not users:
            throttle.failed("auth.password_reset_failed")
        self.extra_email_context = {"practice": Organization.current().name}
        return super().form_valid(form)


class ConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "workspace/password_reset/confirm.html"
    success_url = reverse_lazy("password_reset_done")

    def dispatch(self, request, *args, **kwargs):
        if refusal := throttle.refusal_for(request):
            return _throttled(request, refusal)
        response = super().dispatch(request, *args, **kwargs)
        if not self.validlink:
            throttle.failed("auth.password_reset_failed")
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        user: User = form.user
        audit.record("auth.password_reset", Touch("user", user.pk), actor=user)
        return response


urlpatterns = [
    path("password-reset/", RequestView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="workspace/password_reset/sent.html"
        ),
        name="password_reset_sent",
    ),
    path("password-reset/<uidb64>/<token>/", ConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="workspace/password_reset/done.html"
        ),
        name="password_reset_done",
    ),
]
