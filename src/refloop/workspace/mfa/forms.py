from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )


class TotpForm(forms.Form):
    name = forms.CharField(
        label="Name for this authenticator",
        max_length=64,
        initial="Authenticator app",
        help_text="To tell your devices apart, e.g. “Work phone”.",
    )
    code = forms.CharField(
        label="6-digit code it shows now",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
