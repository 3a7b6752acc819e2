"""Forms for the message settings pages and the after-visit panel: rule switches and timing,
template wording, the progress report and a patient's message preferences."""

from decimal import Decimal

from django import forms

from refloop.messaging import templating
from refloop.messaging.models import DEFAULT_QUIET_END, DEFAULT_QUIET_START, Channel
from refloop.messaging.recipients import e164
from refloop.messaging.rules import RULES, Rule

LANGUAGES = [("en", "English"), ("es", "Spanish")]
# Channels with no subject line.
NO_SUBJECT = {Channel.SMS, Channel.IN_APP}
MAX_HOURS = Decimal(24 * 60)  # two months: anything longer is surely a typo


def channels_for(rule: Rule) -> list[str]:
    """The channels an admin may word this rule for."""
    if rule.channels:
        return list(rule.channels)
    if rule.audience == "staff":
        return [Channel.IN_APP]
    if rule.clinical:
        return [Channel.FAX, Channel.LETTER]
    return [Channel.EMAIL, Channel.SMS, Channel.FAX, Channel.LETTER]


def is_before(rule: Rule) -> bool:
    """A rule timed before its anchor (a reminder before the appointment)."""
    return (rule.offset_minutes or 0) < 0


def hours_meaning(rule: Rule) -> str:
    return rule.offset_meaning.replace("minutes", "hours", 1)


def _hours(minutes: int) -> Decimal:
    hours = Decimal(abs(minutes)) / 60
    return hours.quantize(Decimal(1)) if hours == hours.to_integral() else hours.normalize()


class RuleSettingsForm(forms.Form):
    """Every rule's on/off switch and, for timed rules, its timing in hours."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for rule in RULES.values():
            self.fields[self.enabled_name(rule)] = forms.BooleanField(
                label="On", required=False, initial=rule.enabled()
            )
            if rule.offset_minutes is not None:
                self.fields[self.hours_name(rule)] = forms.DecimalField(
                    label=f"Hours ({hours_meaning(rule)})",
                    max_digits=7,
                    decimal_places=2,
                    initial=_hours(int(rule.offset().total_seconds() // 60)),
                    error_messages={
                        "required": "Give the timing as a number of hours.",
                        "invalid": "Give the timing as a number of hours, e.g. 48.",
                        "max_digits": "Give the timing as a number of hours, e.g. 48.",
                        "max_decimal_places": "Give the timing in hours with at most two decimals.",
                    },
                )

    @staticmethod
    def enabled_name(rule: Rule) -> str:
        return f"{rule.key}__enabled"

    @staticmethod
    def hours_name(rule: Rule) -> str:
        return f"{rule.key}__hours"

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        for rule in RULES.values():
            name = self.hours_name(rule)
            hours = cleaned.get(name)
            if hours is None:
                continue
            if is_before(rule) and hours <= 0:
                self.add_error(
                    name,
                    f"“{rule.title}” goes before the appointment: give more than 0 hours.",
                )
            elif hours < 0:
                self.add_error(name, "Give 0 or more hours.")
            elif hours > MAX_HOURS:
                self.add_error(name, f"Give at most {MAX_HOURS} hours (60 days).")
        return cleaned

    def wanted(self) -> dict[str, tuple[bool, int | None]]:
        """rule key -> (enabled, offset in minutes, signed as the rule counts it)."""
        result = {}
        for rule in RULES.values():
            minutes = None
            hours = self.cleaned_data.get(self.hours_name(rule))
            if hours is not None:
                minutes = int(round(hours * 60))
                if is_before(rule):
                    minutes = -minutes
            result[rule.key] = (self.cleaned_data[self.enabled_name(rule)], minutes)
        return result


def unknown_placeholder_message(names: list[str], rule: Rule) -> str:
    offered = ", ".join("{{ " + n + " }}" for n in sorted(rule.placeholders))
    wrong = " and ".join("{{ " + n + " }}" for n in names)
    verb = "is not a placeholder" if len(names) == 1 else "are not placeholders"
    return f"{wrong} {verb} this message can use. It can use: {offered}."


class TemplateForm(forms.Form):
    language = forms.ChoiceField(choices=LANGUAGES, initial="en")
    subject = forms.CharField(max_length=200, required=False)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": "Write the message: an empty message cannot be sent."},
    )

    def __init__(self, *args, rule: Rule, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.channel = channel
        if channel in NO_SUBJECT:
            del self.fields["subject"]

    def clean_body(self):
        body = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError("Write the message: an empty message cannot be sent.")
        return body.strip()

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        for name in ("subject", "body"):
            text = cleaned.get(name)
            if not text:
                continue
            unknown = templating.unknown_placeholders(text, self.rule.placeholders)
            if unknown:
                self.add_error(name, unknown_placeholder_message(unknown, self.rule))
        return cleaned


# ---- the after-visit panel ------------------------------------------------------


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class ProgressReportForm(forms.Form):
    findings = forms.CharField(widget=_textarea(3), required=False)
    plan = forms.CharField(widget=_textarea(3), required=False)
    medications = forms.CharField(
        label="Medications started or changed", widget=_textarea(2), required=False
    )
    follow_up = forms.CharField(
        label="Follow-up recommendations for the referrer", widget=_textarea(2), required=False
    )


PREFERRED_CHOICES = [
    (Channel.SMS, "SMS"),
    (Channel.EMAIL, "Email"),
    (Channel.LETTER, "Letter"),
    ("", "No preference"),
]
OPT_OUT_CHOICES = [(Channel.SMS, "SMS"), (Channel.EMAIL, "Email"), (Channel.LETTER, "Letter")]


class PreferenceForm(forms.Form):
    preferred_channel = forms.ChoiceField(
        label="Preferred channel", choices=PREFERRED_CHOICES, required=False
    )
    opted_out = forms.MultipleChoiceField(
        label="Never contact by",
        choices=OPT_OUT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    quiet_start = forms.TimeField(
        label="Quiet hours from",
        initial=DEFAULT_QUIET_START,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": "Give the time quiet hours start, e.g. 20:00."},
    )
    quiet_end = forms.TimeField(
        label="Quiet hours until",
        initial=DEFAULT_QUIET_END,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": "Give the time quiet hours end, e.g. 08:00."},
    )
    language = forms.ChoiceField(
        label="Language",
        choices=[("", "As on the patient's record"), *LANGUAGES],
        required=False,
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        preferred = cleaned.get("preferred_channel")
        if preferred == Channel.SMS and not e164(self.patient.phone):
            self.add_error(
                "preferred_channel",
                "The patient has no mobile number on file, so SMS cannot be their preferred "
                "channel. Add a number to the patient's record or choose another channel.",
            )
        elif preferred == Channel.EMAIL and not self.patient.email:
            self.add_error(
                "preferred_channel",
                "The patient has no email address on file, so email cannot be their preferred "
                "channel. Add an address to the patient's record or choose another channel.",
            )
        elif preferred and preferred in (cleaned.get("opted_out") or []):
            self.add_error(
                "preferred_channel",
                "The patient opted out of this channel; it cannot also be their preferred one.",
            )
        return cleaned
