"""The admin's message settings: which automation rules run and when, and their wording
per channel and language, with a preview filled in with example values."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from refloop.core.roles import Capability
from refloop.messaging import report_views, services, templating
from refloop.messaging.defaults import default_wording
from refloop.messaging.models import Audience, Channel, Template
from refloop.messaging.rules import RULES, Rule
from refloop.messaging.template_forms import (
    LANGUAGES,
    NO_SUBJECT,
    RuleSettingsForm,
    TemplateForm,
    channels_for,
    hours_meaning,
)
from refloop.web.access import staff_view

AUDIENCE_HEADINGS = [
    (Audience.REFERRER, "Referring providers"),
    (Audience.PATIENT, "Patients"),
    (Audience.STAFF, "Our staff"),
]
LANGUAGE_CODES = {code for code, _ in LANGUAGES}


def _rule_groups(form: RuleSettingsForm) -> list[dict]:
    customised = set(Template.objects.values_list("key", "channel"))
    groups = []
    for audience, heading in AUDIENCE_HEADINGS:
        rows = []
        for rule in RULES.values():
            if rule.audience != audience:
                continue
            hours = form.hours_name(rule)
            rows.append(
                {
                    "rule": rule,
                    "enabled": form[form.enabled_name(rule)],
                    "hours": form[hours] if hours in form.fields else None,
                    "meaning": hours_meaning(rule),
                    "channels": [
                        {
                            "label": Channel(c).label,
                            "url": reverse("message_template", args=[rule.key, c]),
                            "custom": (rule.key, c) in customised,
                        }
                        for c in channels_for(rule)
                    ],
                }
            )
        groups.append({"heading": heading, "audience": audience, "rows": rows})
    return groups


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SETTINGS)
def message_settings(request):
    status = 200
    if request.method == "POST":
        form = RuleSettingsForm(request.POST)
        if form.is_valid():
            changed = services.save_rule_settings(acting_user=request.user, wanted=form.wanted())
            if changed:
                messages.success(request, "The message settings were saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("message_settings")
        status = 422
    else:
        form = RuleSettingsForm()
    context = {"form": form, "groups": _rule_groups(form)}
    return render(request, "messaging/settings_rules.html", context, status=status)


def _rule_and_channel(rule_key: str, channel: str) -> Rule:
    rule = RULES.get(rule_key)
    if rule is None or channel not in channels_for(rule):
        raise Http404("No such message.")
    return rule


def _current_wording(rule: Rule, channel: str, language: str) -> tuple[Template | None, str, str]:
    template = Template.objects.filter(key=rule.key, channel=channel, language=language).first()
    if template is not None:
        return template, template.subject, template.body
    subject, body = default_wording(rule.key, channel)
    return None, subject, body


def _preview(form: TemplateForm) -> dict:
    values = templating.example_values()
    return {
        "subject": templating.render(form.cleaned_data.get("subject", ""), values),
        "body": templating.render(form.cleaned_data["body"], values),
    }


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_SETTINGS)
def message_template(request, rule_key: str, channel: str):
    rule = _rule_and_channel(rule_key, channel)
    source = request.POST if request.method == "POST" else request.GET
    language = source.get("language") if source.get("language") in LANGUAGE_CODES else "en"
    editor_url = reverse("message_template", args=[rule.key, channel])
    status = 200
    preview = None
    template, subject, body = _current_wording(rule, channel, language)
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "reset":
            if services.reset_template(
                acting_user=request.user, rule_key=rule.key, channel=channel, language=language
            ):
                messages.success(request, "The message is back to refloop's default wording.")
            else:
                messages.info(request, "This message already uses refloop's default wording.")
            return redirect(f"{editor_url}?language={language}")
        form = TemplateForm(request.POST, rule=rule, channel=channel)
        if not form.is_valid():
            status = 422
        elif action == "preview":
            preview = _preview(form)
        else:
            services.save_template(
                acting_user=request.user,
                rule_key=rule.key,
                channel=channel,
                language=form.cleaned_data["language"],
                subject=form.cleaned_data.get("subject", ""),
                body=form.cleaned_data["body"],
            )
            messages.success(request, "The message was saved; it is used from now on.")
            return redirect(f"{editor_url}?language={language}")
    else:
        form = TemplateForm(
            initial={"language": language, "subject": subject, "body": body},
            rule=rule,
            channel=channel,
        )
    context = {
        "rule": rule,
        "channel": channel,
        "channel_label": Channel(channel).label,
        "has_subject": channel not in NO_SUBJECT,
        "form": form,
        "preview": preview,
        "customised": template is not None,
        "language": language,
        "languages": [
            {"code": code, "label": label, "url": f"{editor_url}?language={code}"}
            for code, label in LANGUAGES
        ],
        "placeholders": [
            {
                "name": name,
                "meaning": templating.CATALOG[name].meaning if name in templating.CATALOG else "",
            }
            for name in sorted(rule.placeholders)
        ],
        "other_channels": [
            {
                "label": Channel(c).label,
                "url": reverse("message_template", args=[rule.key, c]),
                "current": c == channel,
            }
            for c in channels_for(rule)
        ],
    }
    return render(request, "messaging/settings_template.html", context, status=status)


urlpatterns = [
    path("settings/messages/", message_settings, name="message_settings"),
    path(
        "settings/messages/<str:rule_key>/<str:channel>/",
        message_template,
        name="message_template",
    ),
]
urlpatterns += report_views.urlpatterns
