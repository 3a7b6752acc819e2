from django import forms


def _code_field(label: str, max_length: int, **attrs: str) -> forms.CharField:
    """The box for a one-time code, which the browser may offer to fill in."""
    widget = forms.TextInput(attrs={"autocomplete": "one-time-code", **attrs})
    return forms.CharField(label=label, max_length=max_length, widget=widget)


class CodeForm(forms.Form):
    code = _code_field("Code", 40, autocapitalize="none")


class TotpForm(forms.Form):
    name = forms.CharField(
        label="Name for this authenticator",
        max_length=64,
        initial="Authenticator app",
        help_text="To tell your devices apart, e.g. “Work phone”.",
    )
    code = _code_field("6-digit code it shows now", 10, inputmode="numeric")


class PasswordForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
