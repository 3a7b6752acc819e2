"""`check --deploy` warns when second factors are not enforced (a setting for the demo)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def mfa_enforced(app_configs, **kwargs):
    if settings.MFA_ENFORCED:
        return []
    return [
        Warning(
            "Second factors are not enforced (REFLOOP_MFA_ENFORCED=false): admins can sign "
            "in with a password alone.",
            hint="Unset REFLOOP_MFA_ENFORCED; it is meant for the demo only.",
            id="refloop.mfa.W001",
        )
    ]
