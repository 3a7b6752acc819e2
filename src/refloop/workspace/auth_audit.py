"""Sign-ins, sign-outs and failed sign-ins go to the audit log (who was in the system, when, from where)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from refloop.core import audit, throttle
from refloop.core.audit import Touch


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit.record("auth.login", Touch("user", user.pk), actor=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record("auth.logout", Touch("user", user.pk), actor=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # An attempt the throttle refused is not a new failure: a locked-out user retrying
    # the right password must not lengthen their own lock.
    if throttle.refused(request) is None:
        throttle.failed("auth.login_failed", username=str(credentials.get("username", "")))
