"""API schemas of the advocacy domain: filters and bodies in, rows out. Patient data goes
only to those who handle patient feedback (HANDLE_FEEDBACK), as on the pages."""

from datetime import date, datetime
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from refloop.advocacy import cases
from refloop.advocacy.testimonials import ATTRIBUTION_MAX_CHARS
from refloop.core.schemas import Id, IsoDate, NonBlank, Offset, OutSchema, Version

AudienceIn = Literal["patient", "office"]
TriggerIn = Literal["seen", "visit", "by_hand", "loop_closed", "quarterly"]
CaseStateIn = Literal["open", "acknowledged", "resolved", "closed"]
CaseCategoryIn = Literal[
    "access", "wait", "communication", "billing", "clinical", "staff", "facility", "other"
]
CaseOutcomeIn = Literal["resolved", "partly", "not_resolved", "no_response"]
CaseMoveKey = Literal["acknowledge", "reassign", "resolve", "close", "reopen"]
TestimonialStateIn = Literal["submitted", "approved", "declined", "withdrawn"]


class _PageIn(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


class FeedbackPersonOut(OutSchema):
    id: int
    name: str


class FeedbackPatientOut(OutSchema):
    id: int
    first_name: str
    last_name: str


# ---- surveys and responses -------------------------------------------------------------


class SurveyFilterIn(_PageIn):
    audience: AudienceIn | None = Field(None, description="A patient's or a referring office's")
    trigger: TriggerIn | None = None
    answered: bool | None = Field(None, description="Only answered (true) or unanswered (false)")
    sent_from: IsoDate | None = Field(None, description="Sent on or after (the practice's day)")
    sent_to: IsoDate | None = Field(None, description="Sent on or before (the practice's day)")


class ResponseFilterIn(_PageIn):
    audience: AudienceIn | None = None
    score_min: int | None = Field(
        None, ge=0, le=10, description="Likelihood to recommend, at least"
    )
    score_max: int | None = Field(None, ge=0, le=10, description="Likelihood to recommend, at most")
    complaint: bool | None = Field(None, description="Only comments that read as a complaint")
    submitted_from: IsoDate | None = Field(None, description="Inclusive (the practice's day)")
    submitted_to: IsoDate | None = Field(None, description="Inclusive (the practice's day)")


class ResponseOut(OutSchema):
    survey_id: int
    audience: str
    recommend: int | None = Field(description="Likelihood to recommend, 0 to 10; null if skipped")
    answers: dict[str, int] = Field(description="Question key: answer from 1 to 5")
    comment: str
    complaint: bool = Field(description="The comment reads as a complaint")
    submitted_at: datetime


class ResponsePageOut(OutSchema):
    items: list[ResponseOut]
    total: int
    limit: int
    offset: int


class SurveyOut(OutSchema):
    id: int
    audience: str
    trigger: str
    referral_id: int | None
    patient_id: int | None
    referring_practice_id: int | None
    department_id: int | None
    location_id: int | None
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    expired: bool = Field(description="Unanswered and past its last day")
    invited_to_review: bool = Field(description="An unanswered survey's patient was invited")
    response: ResponseOut | None


class SurveyPageOut(OutSchema):
    items: list[SurveyOut]
    total: int
    limit: int
    offset: int


class SurveySendIn(Schema):
    model_config = ConfigDict(extra="forbid")

    referral_id: Id = Field(description="A referral visible to you whose patient gets the survey")


class ReviewInvitationOut(OutSchema):
    id: int
    survey_id: int
    via: str
    created_at: datetime
    message_id: int | None = Field(description="The outbox message, once queued")


# ---- cases -------------------------------------------------------------------------------


class CaseFilterIn(_PageIn):
    show: Literal["mine", "all", "overdue"] = Field(
        "mine", description="Your cases, all cases, or those late on a clock"
    )
    state: CaseStateIn | Literal["any"] | None = Field(
        None, description="Default: open or acknowledged"
    )
    category: CaseCategoryIn | None = None


class ClockOut(OutSchema):
    name: Literal["acknowledge", "resolve"]
    due_at: datetime
    late: bool
    words: str = Field(description='As the pages say it: "due in 3 h", "late 1 d"')


class CaseOut(OutSchema):
    id: int
    number: str
    source: str
    category: str
    state: str
    summary: str
    patient: FeedbackPatientOut | None
    referral_id: int | None
    referring_practice_id: int | None
    department_id: int | None
    owner: FeedbackPersonOut | None
    opened_at: datetime
    acknowledge_by: datetime
    resolve_by: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    outcome: str
    action_taken: str
    version: int
    clock: ClockOut | None = Field(description="The clock the case is on now; none once resolved")
    moves: list[str] = Field(description="The moves you may make on it now")


class CasePageOut(OutSchema):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class TimelineEntryOut(OutSchema):
    kind: str
    at: datetime
    who: str
    said: str
    note: str


class CaseDetailOut(CaseOut):
    timeline: list[TimelineEntryOut]


class CaseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    source: Literal["phone", "in_person"] = Field(description="How the complaint was heard")
    category: CaseCategoryIn
    summary: NonBlank = Field(max_length=cases.SUMMARY_MAX, description="What the person said")
    referral_id: Id | None = Field(
        None, description="A referral visible to you: links the patient and department"
    )
    owner_id: Id | None = Field(
        None, description="Default: the referral's assignee or the department's contact"
    )


class CaseMoveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    move: CaseMoveKey
    note: str = Field("", max_length=500, description="acknowledge: what was said")
    owner_id: Id | None = Field(None, description="reassign: the new owner (null: nobody)")
    outcome: CaseOutcomeIn | None = Field(None, description="resolve: how it ended")
    action_taken: str = Field(
        "", max_length=cases.SUMMARY_MAX, description="resolve: what was done"
    )
    reason: str = Field("", max_length=500, description="reopen: why")
    expected_version: Version | None = Field(
        None, description="The version you loaded; 409 if the case changed since"
    )


# ---- advocates and rewards -------------------------------------------------------------


class AdvocateFilterIn(_PageIn):
    active: bool | None = Field(None, description="Only active (true) or opted out (false)")


class AdvocateOut(OutSchema):
    id: int
    patient: FeedbackPatientOut
    active: bool
    opted_in_at: datetime
    opted_out_at: datetime | None
    referrals_brought: int
    given_this_year_cents: int


class AdvocatePageOut(OutSchema):
    items: list[AdvocateOut]
    total: int
    limit: int
    offset: int


class FriendReferralOut(OutSchema):
    id: int
    referral_id: int
    may_name_friend: bool
    thanked_at: datetime | None


class RewardOut(OutSchema):
    id: int
    item_id: int
    item_name: str
    value_cents: int
    year: int
    given_on: date
    friend_referral_id: int | None
    given_by: FeedbackPersonOut | None


class AdvocateDetailOut(AdvocateOut):
    link: str = Field(description="The personal link (names no one); empty once opted out")
    friends: list[FriendReferralOut]
    ledger: list[RewardOut]
    year_limit_cents: int
    rewards_enabled: bool
    barred_state: str | None = Field(description="A state where rewards are barred for them")


class AdvocateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    referral_id: Id = Field(description="The patient's referral (visible to you)")
    agreed: Literal[True] = Field(description="The patient agreed to refer friends")


class RewardIn(Schema):
    model_config = ConfigDict(extra="forbid")

    item_id: Id = Field(description="An active item of the practice's list")
    friend_referral_id: Id | None = Field(None, description="The friend's referral it thanks")


class RewardGivenOut(OutSchema):
    reward: RewardOut
    given_this_year_cents: int
    year_limit_cents: int


class RewardItemOut(OutSchema):
    id: int
    name: str
    value_cents: int
    active: bool


# ---- testimonials ------------------------------------------------------------------------


class TestimonialFilterIn(_PageIn):
    state: TestimonialStateIn | None = None


class AuthorizationOut(OutSchema):
    id: int
    signed_at: datetime
    expires_on: date | None
    expiry_event: str
    expiry_event_occurred_at: datetime | None
    revoked_at: datetime | None
    revoked_how: str


class TestimonialOut(OutSchema):
    id: int
    patient: FeedbackPatientOut
    state: str
    text: str
    attribution: str
    has_photo: bool
    created_at: datetime
    reviewed_at: datetime | None
    standing: str = Field(description="The authorization: signed and valid, expired, revoked...")
    publishable: bool = Field(description="Shown on the widget and exported now")
    authorization: AuthorizationOut | None
    moves: list[str] = Field(description="approve, decline, withdraw: those you may make now")


class TestimonialPageOut(OutSchema):
    items: list[TestimonialOut]
    total: int
    limit: int
    offset: int


class RevocationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    how: NonBlank = Field(
        max_length=160, description='How it reached us: "Letter dated 3 December"'
    )


class PublishedOut(OutSchema):
    id: int
    text: str
    attribution: str = Field(max_length=ATTRIBUTION_MAX_CHARS)
    has_photo: bool
    approved_at: datetime | None
