"""Second-factor devices in the back office (an admin removes a lost phone's authenticator):
changing or deleting one needs a fresh confirmation, like any other security change."""

from django.contrib import admin
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.admin import WebAuthnCredentialAdmin
from django_otp_webauthn.models import WebAuthnCredential

from refloop.core.reauth import ReauthenticatedAdminMixin

for model, model_admin in [
    (TOTPDevice, TOTPDeviceAdmin),
    (StaticDevice, StaticDeviceAdmin),
    (WebAuthnCredential, WebAuthnCredentialAdmin),
]:
    if admin.site.is_registered(model):  # django-otp's plugins register theirs
        admin.site.unregister(model)
    admin.site.register(
        model, type(model_admin.__name__, (ReauthenticatedAdminMixin, model_admin), {})
    )
