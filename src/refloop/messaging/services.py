"""Writes of the messaging app's own settings: which automation rules run and when, their
wording per channel and language, and a patient's message preferences. Each is audited in
the same transaction as the write."""

from collections.abc import Iterable, Mapping
from datetime import datetime, time

from django.db import transaction
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import Conflict
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.messaging.models import Preference, RuleSetting, Template
from refloop.messaging.rules import RULES
from refloop.referrals.models import Direction
from refloop.referrals.selectors import visible_referral


def patient_key(patient_id: int) -> str:
    """A patient as Message.recipient and Preference.recipient name them."""
    return f"patient:{patient_id}"


def _record_template_change(
    template: Template, *, acting_user: User, now: datetime | None, rule: str, **how: bool
) -> None:
    """A rule's wording for one channel and language was saved or reset."""
    audit.record(
        "messaging.template_changed",
        audit.Touch("template", template.pk),
        actor=acting_user,
        detail={"rule": rule, "channel": template.channel, "language": template.language, **how},
        now=now,
    )


def save_rule_settings(
    *,
    acting_user: User,
    wanted: Mapping[str, tuple[bool, int | None]],
    now: datetime | None = None,
) -> int:
    """Store each rule's (enabled, offset in minutes) where it differs from what the rule
    does now; returns how many rules changed."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    changed = 0
    with transaction.atomic():
        for key, (enabled, minutes) in wanted.items():
            rule = RULES[key]
            current_minutes = (
                None if rule.offset_minutes is None else int(rule.offset().total_seconds() // 60)
            )
            if enabled == rule.enabled() and minutes == current_minutes:
                continue
            setting, _ = RuleSetting.objects.update_or_create(
                key=key,
                defaults={
                    "enabled": enabled,
                    "offset_minutes": minutes,
                    "updated_by": acting_user,
                    "updated_at": now,
                },
            )
            audit.record(
                "messaging.rule_changed",
                audit.Touch("rule_setting", setting.pk),
                actor=acting_user,
                detail={"rule": key, "enabled": enabled, "offset_minutes": minutes},
                now=now,
            )
            changed += 1
    return changed


def save_template(
    *,
    acting_user: User,
    rule_key: str,
    channel: str,
    language: str,
    subject: str,
    body: str,
    now: datetime | None = None,
) -> Template:
    """Store a rule's own wording for one channel and language (used from now on)."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    with transaction.atomic():
        template, _ = Template.objects.update_or_create(
            key=rule_key,
            channel=channel,
            language=language,
            defaults={
                "subject": subject.strip(),
                "body": body,
                "updated_by": acting_user,
                "updated_at": now,
            },
        )
        _record_template_change(
            template, acting_user=acting_user, now=now, rule=rule_key, saved=True
        )
    return template


def reset_template(
    *,
    acting_user: User,
    rule_key: str,
    channel: str,
    language: str,
    now: datetime | None = None,
) -> bool:
    """Drop a rule's own wording, back to refloop's default; False when it had none."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    with transaction.atomic():
        template = (
            Template.objects.select_for_update()
            .filter(key=rule_key, channel=channel, language=language)
            .first()
        )
        if template is None:
            return False
        _record_template_change(
            template, acting_user=acting_user, now=now, rule=rule_key, reset=True
        )
        template.delete()
    return True


def save_patient_preferences(
    *,
    acting_user: User,
    referral_id: int,
    preferred_channel: str,
    opted_out: Iterable[str],
    quiet_start: time,
    quiet_end: time,
    language: str,
    now: datetime | None = None,
) -> Preference:
    """Store how the patient of an inbound referral wants to hear from us."""
    require(acting_user, Capability.WORK_REFERRALS)
    now = now or timezone.now()
    values = {
        "preferred_channel": preferred_channel or "",
        "opted_out": sorted(opted_out),
        "quiet_start": quiet_start,
        "quiet_end": quiet_end,
        "language": language or "",
    }
    with transaction.atomic():
        referral = visible_referral(acting_user, referral_id)
        if referral.direction != Direction.INBOUND:
            raise Conflict("Message preferences are kept for patients of inbound referrals.")
        preference, _ = Preference.objects.update_or_create(
            recipient=patient_key(referral.patient_id), defaults={**values, "updated_at": now}
        )
        audit.record(
            "patient.preferences_changed",
            audit.Touch(
                "patient",
                referral.patient_id,
                patient_id=referral.patient_id,
                referral_id=referral.pk,
            ),
            actor=acting_user,
            detail={
                **values,
                "quiet_start": quiet_start.strftime("%H:%M"),
                "quiet_end": quiet_end.strftime("%H:%M"),
            },
            now=now,
        )
    return preference
