"""Multi-factor sign-in: authenticator apps (TOTP), recovery codes and passkeys (WebAuthn).

Built on django-otp and django-otp-webauthn; this package holds the policy (who must have
a second factor), the gate that holds a signed-in session until it is passed, and the pages.
"""
