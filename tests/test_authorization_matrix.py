"""Every route × every role and anonymous × own and other practice, from one table.

The routes come from the URL resolver (pages, htmx actions, the admin site) and from the
API's OpenAPI document, so a route added without an entry in ACCESS fails here. Each
route is called with objects of side A (a referral from practice A to Spine: pam's
practice, cliff's department) and of side B (practice B to Hand: pete's, hana's); on
side B the expected answers swap pam with pete and cliff with hana. A request that is
refused must answer 401, 403 or 404 (or send a browser to sign in); one that is allowed
must not; nothing may answer 5xx. Each request runs in a savepoint that is rolled back,
so one user's POST never changes what the next user finds.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from refloop.advocacy.advocates import enrol
from refloop.advocacy.cases import open_case
from refloop.advocacy.models import Audience, Question, ReviewSite, RewardItem, Trigger
from refloop.advocacy.models import Testimonial as OfferedTestimonial
from refloop.advocacy.surveys import create_survey
from refloop.api import api
from refloop.core.models import ApiToken, Notification
from refloop.demo import factories as f
from refloop.history.models import ImportRun
from refloop.intake.pipeline import process_document
from refloop.intake.services import ingest
from refloop.messaging.models import Message
from refloop.outreach.activities import log_activity
from refloop.outreach.models import Event, GiftEntry, Overage, Task, Territory, Topic
from refloop.portal.models import PortalInvite
from refloop.practice.models import Location
from refloop.referrals import services
from refloop.workspace.models import SavedFilter
from tests import samples
from tests.intake.helpers import referral_pdf

USERS = ("anon", "ada", "cora", "cliff", "hana", "lia", "andy", "pam", "pete")
SWAP_FOR_SIDE_B = {"pam": "pete", "pete": "pam", "cliff": "hana", "hana": "cliff"}

# Who may use a route, as the set of users allowed on side A.
ANYONE = frozenset(USERS)
SIGNED_IN = ANYONE - {"anon"}
STAFF = frozenset({"ada", "cora", "cliff", "hana", "lia", "andy"})
ADMIN = frozenset({"ada"})
WORKERS = frozenset({"ada", "cora"})  # WORK_REFERRALS: coordinators and admins
CLINICAL = frozenset({"ada", "cora", "cliff"})  # side A's referral is in cliff's Spine
REFERRAL_READERS = CLINICAL | {"lia"}  # the liaison reads a summary
ANALYTICS = frozenset({"ada", "cora", "cliff", "hana", "lia", "andy"})
DIRECTORY = ANALYTICS
OUTREACH = frozenset({"ada", "lia"})  # WORK_OUTREACH: liaisons and admins
OWN_PORTAL = frozenset({"pam"})  # side A was sent by pam's practice
PORTAL = frozenset({"pam", "pete"})
OUTREACH = frozenset({"ada", "lia"})  # WORK_OUTREACH: liaisons and admins
NOBODY = frozenset()
FEEDBACK = frozenset({"ada", "cora", "cliff", "hana"})  # HANDLE_FEEDBACK: the care team

# Side A's referral: from practice A (pam's) to Spine (cliff's department). Routes that
# need a token, a signature or a cookie nobody has here are refused to everyone (NOBODY).
ACCESS: dict[str, frozenset[str]] = {
    # Signing in and out, passwords
    "login": ANYONE,
    "logout": ANYONE,
    "home": SIGNED_IN,  # each role is sent to its own start page
    "password_change": SIGNED_IN,
    "password_reset": ANYONE,
    "password_reset_sent": ANYONE,
    "password_reset_confirm": ANYONE,  # an expired link's page says so
    "password_reset_done": ANYONE,
    "logo": NOBODY,  # no logo uploaded: 404 for all
    "favicon": ANYONE,  # the shell's icon, for every browser
    "notifications": STAFF,
    "notification_open": frozenset({"cora"}),  # cora's own notice
    "notifications_read_all": STAFF,
    # The worklist and a referral's page
    "worklist": STAFF - {"andy"},
    "worklist_bulk_assign": WORKERS,
    "saved_filter_create": STAFF - {"andy"},
    # Another user's saved filter is not found in theirs: the delete does nothing and goes back.
    "saved_filter_delete": STAFF - {"andy"},
    "referral_detail": REFERRAL_READERS,
    "referral_print": REFERRAL_READERS,
    "referral_patient": CLINICAL,
    "referral_attachment": CLINICAL,
    "referral_transition": CLINICAL,
    "referral_assign": WORKERS,
    "referral_reschedule": WORKERS,
    "referral_contact_attempt": WORKERS,
    "referral_note": CLINICAL,
    "referral_attachment_upload": CLINICAL,
    "referral_merge": WORKERS,
    "referral_messages": CLINICAL,
    "referral_progress_report": CLINICAL,
    "referral_outcome_consent": WORKERS,
    "referral_message_preferences": WORKERS,
    # Quick intake and faxes
    "intake": WORKERS,
    "intake_provider_search": WORKERS,
    "intake_patient_lookup": WORKERS,
    "intake_department_suggestion": WORKERS,
    "intake_documents": WORKERS,
    "intake_progress": WORKERS,
    "intake_next_candidate": WORKERS,
    "intake_document": WORKERS,
    "intake_document_file": WORKERS,
    "intake_page_image": WORKERS,
    "intake_candidate": WORKERS,
    # Outbound, audit, settings, the outbox
    "outbound": CLINICAL | {"hana"},
    "outbound_new": WORKERS,
    "audit": ADMIN,
    "audit_csv": ADMIN,
    "message_settings": ADMIN,
    "settings_home": ADMIN,
    "settings_practice": ADMIN,
    "settings_location_new": ADMIN,
    "settings_location": ADMIN,
    "settings_sla": ADMIN,
    "settings_departments": ADMIN,
    "settings_department": ADMIN,
    "settings_users": ADMIN,
    "settings_mfa_policy": ADMIN,
    "settings_user_new": ADMIN,
    "settings_user": ADMIN,
    "settings_user_active": ADMIN,
    "settings_user_link": ADMIN,
    "settings_user_second_factors": ADMIN,
    "message_template": ADMIN,
    "outbox": CLINICAL | {"hana"},
    "outbox_message": CLINICAL,
    "outbox_cancel": WORKERS,
    "outbox_retry": WORKERS,
    "outbox_letter": NOBODY,  # the message is a fax: there is no letter to print
    # The portal, and portal invitations
    "portal_home": PORTAL,
    "portal_referral": OWN_PORTAL,
    "portal_document": OWN_PORTAL,
    "portal_answer_info": OWN_PORTAL,
    "portal_messages": OWN_PORTAL,
    "portal_submit": PORTAL,
    "portal_invites": WORKERS,
    "portal_invite_withdraw": WORKERS,
    "portal_invite_link": ANYONE,  # a page saying the link is not valid
    "portal_invite_accept": NOBODY,  # needs the invite's cookie
    # Public pages and patients' links
    "how_to_refer": ANYONE,
    "how_to_refer_pdf": ANYONE,
    "public_form": ANYONE,
    "public_form_thanks": ANYONE,
    # A friend's form through an advocate's link: any code gives a working form.
    "public_friend_form": ANYONE,
    "public_embed": ANYONE,
    "magic_link": ANYONE,  # a page saying the link is not valid
    "magic_link_page": NOBODY,  # needs the link's cookie
    "magic_link_renew": NOBODY,
    "sms_inbound_twilio": NOBODY,  # needs Twilio's signature
    # Analytics and history
    "analytics_dashboard": ANALYTICS,
    "analytics_referrers": ANALYTICS,
    "analytics_drilldown": ANALYTICS,
    "analytics_export_csv": ANALYTICS,
    "analytics_export_xlsx": ANALYTICS,
    "analytics_scorecards": ANALYTICS,
    "analytics_scorecard": ANALYTICS,
    "analytics_scorecard_pdf": ANALYTICS,
    "analytics_scorecard_send": ADMIN,
    "analytics_report_pdf": ANALYTICS,
    "history_import": ADMIN,
    "history_run": ADMIN,
    "history_run_progress": ADMIN,
    "history_template": ADMIN,
    "history_export": ADMIN,
    "history_export_event_log": ADMIN,
    "history_event_log_template": ADMIN,
    "history_run_map": ADMIN,
    # Outreach: the gift and meal ledger and events. Recording past the limit and repayments
    # need a compliance officer, and none of these users is one (tests/outreach covers it).
    "ledger": OUTREACH,
    "ledger_record": OUTREACH,
    "ledger_overage_new": NOBODY,
    "ledger_overages": OUTREACH,
    "ledger_overage": OUTREACH,
    "ledger_overage_repay": NOBODY,
    "ledger_report": OUTREACH,
    "ledger_report_csv": OUTREACH,
    "ledger_report_pdf": OUTREACH,
    "settings_stark_limits": ADMIN,
    "events": OUTREACH,
    "event_new": OUTREACH,
    "event": OUTREACH,
    "event_invite": OUTREACH,
    "event_attendance": OUTREACH,
    # Outreach: the liaison's tasks; its analytics for every role reading analytics
    "outreach_log_worker": ANYONE,  # the log page's service worker: a script holding no one's data
    "outreach_tasks": OUTREACH,
    "outreach_task_new": OUTREACH,
    "outreach_task_close": OUTREACH,
    "outreach_task_reopen": OUTREACH,
    "outreach_task_reassign": OUTREACH,
    "outreach_analytics": ANALYTICS,
    # Advocacy: service-recovery cases, and the portal's feedback page
    "advocacy_cases": FEEDBACK,
    "advocacy_case_new": FEEDBACK,
    "advocacy_case": FEEDBACK,
    "portal_feedback": PORTAL,
    # Advocacy: the Feedback figures for every role reading analytics; the cases behind a
    # count for those who handle feedback
    "advocacy_numbers": ANALYTICS,
    "advocacy_numbers_csv": ANALYTICS,
    "advocacy_numbers_cases": FEEDBACK,
    # The API
    "api:list_referrals": STAFF - {"andy"} | PORTAL,  # each sees only what they may
    "api:create_referral": WORKERS,
    "api:create_outbound_referral": WORKERS,
    "api:get_referral": REFERRAL_READERS | OWN_PORTAL,
    "api:transition_referral": CLINICAL,
    "api:assign_referral": WORKERS,
    "api:list_contact_attempts": CLINICAL,
    "api:record_contact_attempt": WORKERS,
    "api:list_notes": CLINICAL,
    "api:add_note": CLINICAL,
    "api:list_appointments": CLINICAL,  # the portal's view of a referral names its appointment
    "api:book_appointment": WORKERS,
    "api:list_attachments": CLINICAL,  # the portal's view of a referral lists its documents
    "api:upload_attachment": CLINICAL | OWN_PORTAL,  # the portal answers requests for records
    "api:attachment_content": CLINICAL | OWN_PORTAL,
    "api:list_practices": DIRECTORY,
    "api:create_practice": WORKERS | {"lia"},
    "api:get_practice": DIRECTORY,
    "api:list_providers": DIRECTORY,
    "api:create_provider": WORKERS | {"lia"},
    "api:get_provider": DIRECTORY,
    "api:upload_document": WORKERS,
    "api:get_document": WORKERS,
    "api:list_messages": CLINICAL | {"hana"},  # each clinician sees their departments'
    "api:get_message": CLINICAL,
    "api:analytics_metrics": ANALYTICS,
    "api:analytics_referrers": ANALYTICS,
    "api:analytics_funnel": ANALYTICS,
    "api:advocacy_numbers": ANALYTICS,
    # Outreach: the liaison's work, and the practice manager's (WORK_OUTREACH)
    "api:list_due_visits": OUTREACH,
    "api:list_activities": OUTREACH,
    "api:list_tasks": OUTREACH,
    "api:list_gifts": OUTREACH,
    "api:record_gift": OUTREACH,
    "api:ledger_report": OUTREACH,
    "api:create_task": OUTREACH,
    "api:close_task": OUTREACH,
    "api:referral_lift": OUTREACH,
    # Side A's activity is lia's: hers to change or cancel, and an admin's
    "api:log_activity": OUTREACH,
    "api:change_activity": OUTREACH,
    "api:cancel_activity": OUTREACH,
    "api:list_events": OUTREACH,
    "api:get_event": OUTREACH,
    "api:create_event": OUTREACH,
    "api:invite_to_event": OUTREACH,
    "api:record_attendance": OUTREACH,
    # Advocacy over the API: the care team's (HANDLE_FEEDBACK), as the pages
    "api:list_surveys": FEEDBACK,  # each clinician sees their departments'
    "api:get_survey": CLINICAL,  # side A's survey is of a Spine referral
    "api:list_responses": FEEDBACK,
    "api:send_survey": FEEDBACK,  # hana: 422, the referral is not hers to see
    "api:invite_to_review": CLINICAL,
    "api:list_cases": FEEDBACK,
    "api:get_case": FEEDBACK,
    "api:open_case": FEEDBACK,
    "api:move_case": FEEDBACK,
    "api:list_advocates": FEEDBACK,
    "api:get_advocate": FEEDBACK,
    "api:enrol_advocate": FEEDBACK,
    "api:opt_out_advocate": FEEDBACK,
    "api:give_reward": FEEDBACK,  # 409: rewards are off
    "api:list_reward_items": FEEDBACK,
    "api:list_testimonials": FEEDBACK,
    "api:list_publishable_testimonials": FEEDBACK,
    "api:get_testimonial": FEEDBACK,
    "api:approve_testimonial": ADMIN,  # PUBLISH_TESTIMONIALS; 409, not signed
    "api:decline_testimonial": ADMIN,  # PUBLISH_TESTIMONIALS
    "api:revoke_testimonial_authorization": FEEDBACK,  # 409: nothing signed
    # The back office (Django's admin) beyond its models, which ADMIN_MODELS covers
    # The back office's sign-in hands over to the workspace's; signed in, only staff go on.
    "admin:login": ADMIN | {"anon"},
    "admin:logout": ANYONE,
    "admin:index": ADMIN,
    "admin:app_list": ADMIN,
    "admin:password_change": ADMIN,
    "admin:password_change_done": ADMIN,
    "admin:jsi18n": ADMIN,
    "admin:autocomplete": NOBODY,  # refuses a request naming no field
    "admin:view_on_site": NOBODY,  # no object here has a page of its own
    "admin:admin/(?P<url>.*)$": NOBODY,  # an unknown back-office address
    "admin:auth_user_password_change": ADMIN,
    "admin_login": ADMIN | {"anon"},  # the same page under its own name
    # Second factors and re-authentication: one's own, for anyone signed in
    "mfa_security": SIGNED_IN,
    "mfa_totp": SIGNED_IN,
    "mfa_recovery_codes": SIGNED_IN,
    "mfa_recovery_codes_new": SIGNED_IN,
    "mfa_remove": SIGNED_IN,
    "mfa_verify": SIGNED_IN,
    "reauthenticate": SIGNED_IN,
    "otp_webauthn:credential-authentication-begin": SIGNED_IN,
    "otp_webauthn:credential-authentication-complete": SIGNED_IN,
    "otp_webauthn:credential-registration-begin": SIGNED_IN,
    "otp_webauthn:credential-registration-complete": SIGNED_IN,
    "otp_webauthn:js-i18n-catalog": ANYONE,
    # The session clock: how long is left (signed out: none), and "stay signed in"
    "session_status": ANYONE,
    "session_stay": ANYONE,
    # Outreach: the liaison's home, the phone log, planning and the calendar feed
    "outreach_home": OUTREACH,
    "outreach_log": OUTREACH,
    "outreach_practice_search": OUTREACH,
    "outreach_plan": OUTREACH,
    "outreach_calendar_new": OUTREACH,
    "outreach_activity": OUTREACH,  # lia's own visit; an admin may change any
    "outreach_activity_cancel": OUTREACH,
    "outreach_calendar_feed": NOBODY,  # a secret token nobody has here: 404
    # Outreach settings: visit cadence and topics
    "outreach_settings": ADMIN,
    # Refer a friend: the advocates (care team), the reward settings (admins), and the
    # patient's opt-in page, which needs the survey link's cookie nobody has here.
    "advocates": FEEDBACK,
    "advocate_enrol": FEEDBACK,
    "advocate_detail": FEEDBACK,
    "advocate_card": FEEDBACK,
    "advocate_opt_out": FEEDBACK,
    "advocate_reward": FEEDBACK,
    "advocacy_survey_advocate": NOBODY,
    "advocacy_reward_settings": ADMIN,
    "advocacy_reward_item_add": ADMIN,
    "advocacy_reward_item": ADMIN,
    "outreach_topics": ADMIN,
    "outreach_topic": ADMIN,
    # Outreach: a practice's relationship page and its edits; territories (read by
    # liaisons, changed by admins)
    "outreach_practice": OUTREACH,
    "outreach_practice_tier": OUTREACH,
    "outreach_provider": OUTREACH,
    "outreach_staff": OUTREACH,
    "outreach_practice_territory": ADMIN,
    "outreach_territories": OUTREACH,
    "outreach_territory": OUTREACH,
    "outreach_territory_new": ADMIN,
    "outreach_territory_preview": ADMIN,
    "outreach_territory_edit": ADMIN,
    "outreach_territory_apply": ADMIN,
    "outreach_territory_practices": ADMIN,
    # Testimonials (advocacy): the patient's pages need the survey link's cookie or the
    # revoke link's code, nobody's here; the widget is public; the photo only while
    # publishable (the side's testimonial is not approved).
    "advocacy_survey_testimonial": NOBODY,
    "advocacy_survey_testimonial_sign": NOBODY,
    "advocacy_survey_testimonial_done": NOBODY,
    "advocacy_authorization": NOBODY,
    "advocacy_authorization_link": ANYONE,  # hands the code on; the page then says "not valid"
    "advocacy_testimonials_widget": ANYONE,
    "advocacy_testimonial_photo": NOBODY,
    "advocacy_feedback_testimonials": FEEDBACK,
    "advocacy_feedback_testimonials_export": ADMIN,  # PUBLISH_TESTIMONIALS
    "advocacy_feedback_testimonial": FEEDBACK,
    "advocacy_feedback_testimonial_review": FEEDBACK,  # approve/decline: the service asks
    "advocacy_feedback_testimonial_revocation": FEEDBACK,
    "advocacy_feedback_testimonial_expiry_event": FEEDBACK,
    "advocacy_feedback_testimonial_photo": FEEDBACK,
    # Advocacy: the survey a patient or a referring office answers from its link (the pages
    # under /s/ need the link's cookie), the counting review redirect (a code nobody has
    # here), the feedback settings, and the staff list of surveys (HANDLE_FEEDBACK)
    "advocacy_survey_link": ANYONE,  # hands any code over; the page then says if it is valid
    "advocacy_survey": NOBODY,
    "advocacy_survey_thanks": NOBODY,
    "advocacy_review_click": NOBODY,
    "advocacy_settings": ADMIN,
    "advocacy_questions": ADMIN,
    "advocacy_question": ADMIN,
    "advocacy_review_sites": ADMIN,
    "advocacy_review_site": ADMIN,
    "advocacy_surveys": CLINICAL | {"hana"},  # each clinician sees their departments'
    "advocacy_survey_send": CLINICAL | {"hana"},
    "advocacy_survey_invite": CLINICAL,  # side A's survey is of a Spine referral
}
# Models in the back office, admins only; what the model's admin forbids to everyone.
ADMIN_MODELS = {
    "core.user": {},
    "core.apitoken": {},
    "core.auditentry": {"add": NOBODY, "delete": NOBODY},  # append-only
    "auth.group": {},
    "practice.organization": {},
    "practice.location": {},
    "practice.department": {},
    "network.practice": {},
    "network.provider": {},
    "django_tasks_database.dbtaskresult": {"add": NOBODY, "delete": NOBODY},
    # Device id 1 does not exist here: its QR code and settings pages answer 404.
    "otp_totp.totpdevice": {"config": NOBODY, "qrcode": NOBODY},
    "otp_static.staticdevice": {},
    "django_otp_webauthn.webauthncredential": {"add": NOBODY},  # made by a browser only
}
ADMIN_ACTIONS = ("changelist", "add", "change", "delete", "history", "config", "qrcode")


def expected_on_side_a(key: str) -> frozenset[str] | None:
    if key in ACCESS:
        return ACCESS[key]
    for model, exceptions in ADMIN_MODELS.items():
        app_label, model_name = model.split(".")
        for action in ADMIN_ACTIONS:
            if key == f"admin:{app_label}_{model_name}_{action}":
                return exceptions.get(action, ADMIN)
        if key == f"admin:admin/{app_label}/{model_name}/<path:object_id>/":
            return ADMIN  # the old address of a change page, redirected
    return None


def expected(key: str, side: str, who: str) -> str:
    allowed = expected_on_side_a(key)
    assert allowed is not None, key
    if side == "B":
        who = SWAP_FOR_SIDE_B.get(who, who)
    return "allowed" if who in allowed else "refused"


@dataclass(frozen=True)
class Route:
    key: str  # the URL name, or "api:<operationId>"
    method: str
    path: str  # with <name> placeholders


def _resolver_routes() -> list[Route]:
    out = []

    def walk(resolver: URLResolver, prefix: str, namespace: str):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and not prefix.startswith("api/"):
                path = prefix + str(p.pattern)
                out.append(Route(f"{namespace}{p.name or path}", "?", path))

    walk(get_resolver(), "", "")
    return out


def _api_routes() -> list[Route]:
    schema = api.get_openapi_schema()
    out = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            out.append(Route(f"api:{operation['operationId']}", method.upper(), path))
    return out


def all_routes() -> list[Route]:
    return _resolver_routes() + _api_routes()


# Which object a route's `pk` names, when it is not a referral.
PK_OF = {
    "notification_open": "notification",
    "saved_filter_delete": "saved_filter",
    "portal_invite_withdraw": "invite",
    "history_run": "run",
    "history_run_progress": "run",
    "history_run_map": "run",
    "intake_document": "document",
    "intake_document_file": "document",
    "intake_page_image": "document",
    "intake_candidate": "candidate",
    "outreach_activity": "activity",
    "outreach_activity_cancel": "activity",
    "outreach_task_close": "task",
    "outreach_task_reopen": "task",
    "outreach_task_reassign": "task",
    "outreach_practice": "practice",
    "outreach_practice_tier": "practice",
    "outreach_practice_territory": "practice",
    "advocacy_case": "case",
    "advocacy_survey_invite": "survey",
}
# Values for the other parameters, the same on both sides.
FIXED = {
    "to": "in_review",
    "rule_key": "patient.scheduled",
    "channel": "email",
    "fmt": "csv",
    "table": "summary",
    "feedback_table": "cases_by_category",
    "month": "2026-01",
    "number": 1,
    "uidb64": "MQ",
    "token": "expired-token",
    "app_label": "core",
    "url": "nowhere/",
    "year": 2026,
    "code": "rnobodyhasthiscode",
}


# Each side's patient, with a name no page text contains: the liaison and the analyst must
# never meet it (nor the birth date or phone) on any route they may open.
PATIENTS = {
    "A": {"first_name": "Zephyrine", "last_name": "Quillfeather", "phone": "(217) 555-0191"},
    "B": {"first_name": "Odalys", "last_name": "Thistlewood", "phone": "(217) 555-0192"},
}
BIRTH_DATES = {"A": dt.date(1961, 4, 9), "B": dt.date(1958, 11, 23)}
NEVER_SEE_PATIENTS = ("lia", "andy")


def identity(side: str) -> list[str]:
    born = BIRTH_DATES[side]
    return [
        *PATIENTS[side].values(),
        "5550191" if side == "A" else "5550192",
        born.isoformat(),
        f"{born:%m/%d/%Y}",
        f"{born.month}/{born.day}/{born.year}",
    ]


def _side(*, side, acting, department, provider, practice, cora, ada, when, document) -> dict:
    referral = f.make_referral(
        acting_user=acting,
        department=department,
        referring_provider=provider,
        patient=f.patient_data(**PATIENTS[side], date_of_birth=BIRTH_DATES[side]),
    )
    attachment = services.add_attachment(
        referral, acting_user=cora, upload=ContentFile(samples.pdf()), filename="letter.pdf"
    )
    message = Message.objects.create(
        referral=referral,
        rule="referrer.acknowledgment",
        audience="referrer",
        recipient=f"provider:{provider.pk}",
        recipient_label=str(provider),
        channel="fax",
        body="We received your referral.",
        dedupe_key=f"matrix|{referral.pk}",
        due_at=when,
        created_at=when,
        status="failed",
    )
    notification = Notification.objects.create(
        user=cora, kind="referral.assigned", text="A referral", referral=referral, created_at=when
    )
    saved = SavedFilter.objects.create(user=cora, name=f"mine {referral.pk}", params={})
    invite = PortalInvite.objects.create(
        email="someone@example.org",
        practice=practice,
        invited_by=cora,
        digest=f"{referral.pk:064d}",
        created_at=when,
        expires_at=when,
    )
    run = ImportRun.objects.create(original_name="h.csv", uploaded_by=ada, created_at=when)
    event = Event.objects.create(kind="cme", title="CME evening", starts_at=when, organizer=ada)
    gift = GiftEntry.objects.create(
        given_on=when.date(),
        kind="meal",
        description="Dinner",
        value=600,
        practice=practice,
        provider=provider,
        physician=True,
        recorded_by=ada,
    )
    overage = Overage.objects.create(
        gift=gift, provider=provider, excess=65, repay_by=when.date(), recorded_by=ada
    )
    task = Task.objects.create(title="Visit the office", practice=practice)
    case = open_case(
        acting_user=cora,
        source="phone",
        category="wait",
        summary="Waited two hours",
        referral=referral,
        now=when,
    )
    testimonial = OfferedTestimonial.objects.create(
        patient=referral.patient, text="Kind people.", attribution="Z. Q.", created_at=when
    )
    testimonial.photo.save("photo", ContentFile(samples.png()))
    testimonial.photo_type = "image/png"
    testimonial.save()
    survey, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"matrix:{referral.pk}",
        now=when,
        patient=referral.patient,
        referral=referral,
    )
    review_site, _ = ReviewSite.objects.get_or_create(
        name="Google", defaults={"url": "https://reviews.example/google"}
    )
    return {
        "survey": survey.pk,
        "review_site": review_site.pk,
        "question": Question.objects.filter(audience=Audience.PATIENT).first().pk,
        "referral": referral.pk,
        "attachment": attachment.pk,
        "message": message.pk,
        "notification": notification.pk,
        "saved_filter": saved.pk,
        "invite": invite.pk,
        "run": run.pk,
        "event": event.pk,
        "overage": overage.pk,
        "task": task.pk,
        "case": case.pk,
        "testimonial": testimonial.pk,
        "document": document.pk,
        "candidate": document.candidates.get().pk,
        "practice": practice.pk,
        "provider": provider.pk,
        "user": cora.pk,
        "department": department.pk,
        "location": Location.objects.get_or_create(name="Main clinic")[0].pk,
        "staff": f.StaffContactFactory(practice=practice).pk,
        "territory": Territory.objects.create(name=f"Territory of {practice.name}").pk,
        "topic": Topic.objects.get_or_create(name="Thank-you")[0].pk,
        "advocate": enrol(patient=referral.patient, acting_user=cora, via="staff", now=when).pk,
        "item": RewardItem.objects.create(name=f"Mug {side}", value_cents=1200).pk,
    }


@pytest.fixture
def sides(org, ada, cora, cliff, hana, lia, andy, pam, pete, spine, hand, provider_a, provider_b):
    ada.is_staff = ada.is_superuser = True  # as the demo's admin: the back office too
    ada.save()
    when = timezone.now()
    # Faxed documents belong to no referring practice until a referral is made of them.
    document = process_document(
        ingest(content=referral_pdf(), filename="fax.pdf", source="upload", uploaded_by=cora).pk
    )
    common = {"cora": cora, "ada": ada, "when": when, "document": document}
    found = {
        "A": _side(
            side="A",
            acting=cora,
            department=spine,
            provider=provider_a,
            practice=provider_a.practice,
            **common,
        ),
        "B": _side(
            side="B",
            acting=cora,
            department=hand,
            provider=provider_b,
            practice=provider_b.practice,
            **common,
        ),
    }
    for side, provider in (("A", provider_a), ("B", provider_b)):
        # The liaison's visit: hers to change, and an admin's.
        activity, _ = log_activity(
            acting_user=lia, practice=provider.practice, occurred_on=when.date()
        )
        found[side]["activity"] = activity.pk
    return found


def value_for(route: Route, name: str, ids: dict):
    if name in ("pk", "referral_id"):
        return ids[PK_OF.get(route.key, "referral")]
    if name in ("attachment_id", "attachment_pk"):
        return ids["attachment"]
    if name in ("message_pk", "message_id"):
        return ids["message"]
    if name in ("staff_id", "territory_id", "topic_id"):
        return ids[name.removesuffix("_id")]
    if name == "practice_id":
        return ids["practice"]
    if name == "provider_id":
        return ids["provider"]
    if name == "document_id":
        return ids["document"]
    if name in (
        "department_id",
        "user_id",
        "location_id",
        "event_id",
        "overage_id",
        "task_id",
        "activity_id",
        "testimonial_id",
        "advocate_id",
        "survey_id",
        "case_id",
        "item_id",
    ):
        return ids[name.removesuffix("_id")]
    if name == "id":  # a user's password page: a user that exists whatever the ids
        return ids["user"]
    if name == "site_id":
        return ids["review_site"]
    if name == "question_id":
        return ids["question"]
    if name in ("object_id", "content_type_id"):
        return 1
    return FIXED[name]


_PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}|\(\?P<(\w+)>[^)]*\)")


def url_for(route: Route, ids: dict) -> str:
    path = route.path.replace("^", "").replace("$", "").replace("\\.", ".")

    def fill(match: re.Match) -> str:
        name = next(g for g in match.groups() if g)
        return str(value_for(route, name, ids))

    filled = _PLACEHOLDER.sub(fill, path)
    return filled if filled.startswith("/") else "/" + filled


NEW_PATIENT = {
    "first_name": "Ottoline",
    "last_name": "Brackenridge",
    "date_of_birth": "1970-03-04",
    "contact_consent": True,
}


def api_body(key: str, ids: dict) -> dict:
    """A request the endpoint would carry out, so that only the caller's rights can refuse it."""
    return {
        "create_referral": {
            "source_type": "provider",
            "referring_provider_id": ids["provider"],
            "reason": "Low back pain",
            "patient": NEW_PATIENT,
        },
        "create_outbound_referral": {
            "receiving_practice_id": ids["practice"],
            "reason": "Sleep study",
            "patient": NEW_PATIENT,
        },
        "transition_referral": {"to": "in_review"},
        "assign_referral": {"assignee_id": None},
        "record_contact_attempt": {"channel": "phone", "outcome": "no_answer"},
        "add_note": {"text": "Called the office."},
        "book_appointment": {"starts_at": "2031-01-10T10:00:00"},
        "create_practice": {"name": "Lakeside Pediatrics"},
        "create_provider": {"npi": "1245319599", "first_name": "Ira", "last_name": "Moss"},
        "create_task": {"title": "Visit the office", "practice_id": ids["practice"]},
        "close_task": {"status": "done"},
        "log_activity": {"practice_id": ids["practice"], "occurred_on": "2026-03-02"},
        "change_activity": {"notes": "Met the office manager"},
        "cancel_activity": {},
        "create_event": {"kind": "cme", "title": "CME evening", "starts_at": "2026-03-02T18:00"},
        "invite_to_event": {"staff_ids": [ids["staff"]]},
        "record_attendance": {"attended": []},
        "send_survey": {"referral_id": ids["referral"]},
        "invite_to_review": {},
        "open_case": {"source": "phone", "category": "wait", "summary": "Waited an hour"},
        "move_case": {"move": "acknowledge"},
        "enrol_advocate": {"referral_id": ids["referral"], "agreed": True},
        "opt_out_advocate": {},
        "give_reward": {"item_id": ids["item"]},
        "approve_testimonial": {},
        "decline_testimonial": {},
        "revoke_testimonial_authorization": {"how": "Letter of 3 March"},
        "record_gift": {
            "provider_id": ids["provider"],
            "given_on": "2026-03-02",
            "kind": "meal",
            "description": "Lunch for the office",
            "value": "12.00",
        },
    }[key]


API_QUERY = {"start": "2026-01-01", "end": "2026-07-01"}
UPLOADS = {"upload_attachment", "upload_document"}
# Routes whose success sends the browser to the sign-in page.
SENDS_TO_SIGN_IN = {"logout", "admin:logout", "admin:login", "admin_login"}


def _is_sign_in(location: str) -> bool:
    return "/login/" in location.split("?")[0]


def outcome(route: Route, response) -> str:
    if response.status_code >= 500:
        return "error"
    if response.status_code in (401, 403, 404):
        return "refused"
    redirect = response.status_code in (301, 302, 303)
    if redirect and _is_sign_in(response.get("Location", "")) and route.key not in SENDS_TO_SIGN_IN:
        return "refused"
    return "allowed"


class Caller:
    """Calls a route as each user: a signed-in session for pages, a bearer token for the API.

    Every call runs in a savepoint that is rolled back, and the session cookie is put back
    afterwards, so no call (a sign-out, a move, a deletion) changes what the next one finds.
    """

    def __init__(self, users: dict):
        self.api = {}
        self.pages = {}
        for name, user in users.items():
            headers = {}
            page_client = Client(raise_request_exception=False)
            if user is not None:
                headers["HTTP_AUTHORIZATION"] = f"Bearer {ApiToken.issue(user)[1]}"
                page_client.force_login(user)
            self.api[name] = Client(raise_request_exception=False, **headers)
            self.pages[name] = page_client

    def call(self, route: Route, url: str, who: str, ids: dict):
        client = self.api[who] if route.key.startswith("api:") else self.pages[who]
        cookies = client.cookies
        client.cookies = cookies.__class__(cookies)
        with transaction.atomic():
            response = self._send(client, route, url, ids)
            transaction.set_rollback(True)
        client.cookies = cookies
        return response

    def _send(self, client: Client, route: Route, url: str, ids: dict):
        operation = route.key.removeprefix("api:")
        if route.method == "?":
            response = client.get(url)
            return client.post(url) if response.status_code == 405 else response
        if route.method == "GET":
            return client.get(url, API_QUERY if operation.startswith("analytics_") else {})
        if operation in UPLOADS:
            upload = SimpleUploadedFile("scan.png", samples.png(), content_type="image/png")
            return client.post(url, {"file": upload})
        body = json.dumps(api_body(operation, ids))
        return client.generic(route.method, url, body, content_type="application/json")


def observe(sides: dict, users: dict, leaks: list | None = None) -> dict[tuple[str, str, str], str]:
    """(route, side, user) -> allowed, refused or error, for every route on both sides; each
    answer to a liaison or analyst that names a patient goes into `leaks`."""
    caller = Caller(users)
    seen = {}
    for route in all_routes():
        urls = {side: url_for(route, ids) for side, ids in sides.items()}
        for side, ids in sides.items():
            for who in USERS:
                if side == "B" and urls["A"] == urls["B"]:
                    # The same request: what differs by side is only who owns the objects.
                    seen[(route.key, side, who)] = seen[
                        (route.key, "A", SWAP_FOR_SIDE_B.get(who, who))
                    ]
                    continue
                response = caller.call(route, urls[side], who, ids)
                seen[(route.key, side, who)] = outcome(route, response)
                if leaks is not None and who in NEVER_SEE_PATIENTS:
                    leaks += [(route.key, side, who, w) for w in shown(response, side)]
    return seen


def shown(response, side: str) -> list[str]:
    """The words of the side's patient's identity that the answer contains."""
    if response.streaming or response.status_code >= 300:
        return []
    text = response.content.decode("utf-8", "replace").replace("-", "").replace(" ", "")
    raw = response.content.decode("utf-8", "replace")
    return [w for w in identity(side) if w in raw or w.replace("-", "") in text]


@pytest.fixture
def users(ada, cora, cliff, hana, lia, andy, pam, pete):
    return {
        "anon": None,
        "ada": ada,
        "cora": cora,
        "cliff": cliff,
        "hana": hana,
        "lia": lia,
        "andy": andy,
        "pam": pam,
        "pete": pete,
    }


def test_every_route_has_an_entry_in_the_table():
    missing = sorted({r.key for r in all_routes() if expected_on_side_a(r.key) is None})
    assert not missing, f"say who may use these routes in ACCESS or ADMIN_MODELS: {missing}"


def test_the_table_names_no_route_that_does_not_exist():
    keys = {r.key for r in all_routes()}
    assert not set(ACCESS) - keys


def test_every_route_answers_every_user_as_the_table_says(sides, users):
    leaks: list = []
    seen = observe(sides, users, leaks)

    errors = sorted(k for k, result in seen.items() if result == "error")
    wrong = sorted(
        f"{key} side {side} as {who}: {result}, expected {expected(key, side, who)}"
        for (key, side, who), result in seen.items()
        if result != "error" and result != expected(key, side, who)
    )
    assert not errors, f"server errors: {errors}"
    assert not wrong, "\n".join(wrong)
    # No route a liaison or an analyst may open shows a patient's identity.
    assert not leaks, leaks
