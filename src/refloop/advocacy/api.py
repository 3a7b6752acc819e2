"""The advocacy domain over the API: surveys and their responses, service-recovery cases,
advocates and their reward ledger, testimonials (HANDLE_FEEDBACK; approving and declining
testimonials PUBLISH_TESTIMONIALS). The numbers are in numbers_api (VIEW_ANALYTICS).

Every write calls the service the page calls (sending, cases, advocates, rewards,
testimonials), so the rules, refusals and audit records are the same; every read of patient
data is audited under the action the page records. Paths carry ids only.
"""

import hashlib
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from ninja import Header, Query, Router
from ninja.responses import Status

from refloop.advocacy import (
    advocates,
    case_clocks,
    case_views,
    cases,
    rewards,
    sending,
    testimonial_staff_views,
    testimonials,
)
from refloop.advocacy.models import (
    REWARD_YEAR_LIMIT_CENTS,
    AdvocacySettings,
    Advocate,
    Audience,
    Case,
    CaseState,
    FriendReferral,
    Response,
    ReviewInvitation,
    Reward,
    RewardItem,
    Survey,
    Testimonial,
)
from refloop.advocacy.schemas import (
    AdvocateDetailOut,
    AdvocateFilterIn,
    AdvocateIn,
    AdvocatePageOut,
    CaseDetailOut,
    CaseFilterIn,
    CaseIn,
    CaseMoveIn,
    CasePageOut,
    PublishedOut,
    ResponseFilterIn,
    ResponsePageOut,
    ReviewInvitationOut,
    RevocationIn,
    RewardGivenOut,
    RewardIn,
    RewardItemOut,
    SurveyFilterIn,
    SurveyOut,
    SurveyPageOut,
    SurveySendIn,
    TestimonialFilterIn,
    TestimonialOut,
    TestimonialPageOut,
)
from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput, NotFound
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.core.schemas import ApiRequest, PathId, errors, replayed
from refloop.practice.models import Organization
from refloop.referrals.selectors import visible_referrals
from refloop.web.words import person

router = Router(tags=["advocacy"])

KEY_MAX = 64
IDEMPOTENCY = (
    " Send an `Idempotency-Key` to make it once: the same key with the same body answers "
    "the first one again (200, `Idempotent-Replayed: true`); the same key with another body, "
    "or one another user has used, is refused (422, field `Idempotency-Key`)."
)


def _feedback(user: User) -> None:
    require(user, Capability.HANDLE_FEEDBACK)


def _since(found: QuerySet, field: str, first, last) -> QuerySet:
    """`found` with `field` on the practice's days from `first` to `last`, inclusive; a day at
    the edge of the calendar bounds nothing."""
    zone = Organization.current().zone
    if first is not None and first > date.min:
        found = found.filter(**{f"{field}__gte": datetime.combine(first, time.min, tzinfo=zone)})
    if last is not None and last < date.max:
        following = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        found = found.filter(**{f"{field}__lt": following})
    return found


def _page(found: QuerySet, limit: int, offset: int) -> tuple[list, int]:
    return list(found[offset : offset + limit]), found.count()


def _person(user: User | None) -> dict | None:
    return None if user is None else {"id": user.pk, "name": person(user)}


def _patient(patient) -> dict | None:
    if patient is None:
        return None
    return {"id": patient.pk, "first_name": patient.first_name, "last_name": patient.last_name}


def _fingerprint(request: ApiRequest) -> str:
    return hashlib.sha256(request.body).hexdigest()


def _earlier(model, key: str | None, fingerprint: str, user: User, by: str):
    """The row an earlier send with `key` made, if it sent the same; None for a new key."""
    if not key:
        return None
    earlier = model.objects.filter(client_key=key).first()
    if earlier is None:
        return None
    if getattr(earlier, f"{by}_id") != user.pk or earlier.client_fingerprint != fingerprint:
        raise InvalidInput(
            "This Idempotency-Key was already used for a different request; send a new key.",
            field="Idempotency-Key",
        )
    return earlier


def _key_header(what: str):
    return Header(
        None,
        alias="Idempotency-Key",
        max_length=KEY_MAX,
        description=f"Send the same key when retrying; the first {what} comes back (200)",
    )


# ---- surveys and responses -------------------------------------------------------------


def _visible_surveys(user: User) -> QuerySet[Survey]:
    """A patient's surveys of referrals the user may see (as the surveys page), and the
    referring offices' surveys."""
    _feedback(user)
    return Survey.objects.filter(
        Q(audience=Audience.PATIENT, referral__in=visible_referrals(user))
        | Q(audience=Audience.OFFICE)
    ).select_related("response")


def _survey_out(survey: Survey, invited: set[int], now: datetime) -> dict:
    response = getattr(survey, "response", None)
    return {
        "id": survey.pk,
        "audience": survey.audience,
        "trigger": survey.trigger,
        "referral_id": survey.referral_id,
        "patient_id": survey.patient_id,
        "referring_practice_id": survey.referring_practice_id,
        "department_id": survey.department_id,
        "location_id": survey.location_id,
        "created_at": survey.created_at,
        "expires_at": survey.expires_at,
        "answered_at": survey.answered_at,
        "expired": survey.answered_at is None and survey.expires_at <= now,
        "invited_to_review": survey.pk in invited,
        "response": None if response is None else _response_out(response, survey),
    }


def _response_out(response: Response, survey: Survey) -> dict:
    return {
        "survey_id": survey.pk,
        "audience": survey.audience,
        "recommend": response.recommend,
        "answers": response.answers,
        "comment": response.comment,
        "complaint": response.complaint,
        "submitted_at": response.submitted_at,
    }


def _invited(surveys: list[Survey]) -> set[int]:
    return set(
        ReviewInvitation.objects.filter(
            survey__in=surveys, via=ReviewInvitation.Via.MESSAGE
        ).values_list("survey_id", flat=True)
    )


@router.get("/advocacy/surveys", response={200: SurveyPageOut})
def list_surveys(request: ApiRequest, filters: Query[SurveyFilterIn]):
    """Surveys, newest first: a patient's (of referrals visible to you) and the referring
    offices', each with its response once answered. Audited as `survey.listed`."""
    found = _visible_surveys(request.auth)
    if filters.audience:
        found = found.filter(audience=filters.audience)
    if filters.trigger:
        found = found.filter(trigger=filters.trigger)
    if filters.answered is not None:
        found = found.filter(answered_at__isnull=not filters.answered)
    found = _since(found, "created_at", filters.sent_from, filters.sent_to)
    rows, total = _page(found.order_by("-created_at", "-pk"), filters.limit, filters.offset)
    now = timezone.now()
    if rows:
        audit.record_many(
            "survey.listed", [s.audit_touch() for s in rows], actor=request.auth, now=now
        )
    invited = _invited(rows)
    return {
        "items": [_survey_out(s, invited, now) for s in rows],
        "total": total,
        "limit": filters.limit,
        "offset": filters.offset,
    }


def _survey(user: User, survey_id: int) -> Survey:
    survey = _visible_surveys(user).filter(pk=survey_id).first()
    if survey is None:
        raise NotFound("No survey with this id is visible to you.")
    return survey


@router.get("/advocacy/surveys/{survey_id}", response={200: SurveyOut})
def get_survey(request: ApiRequest, survey_id: PathId):
    """One survey, with its response if answered. Audited as `survey.read`."""
    survey = _survey(request.auth, survey_id)
    now = timezone.now()
    audit.record("survey.read", survey.audit_touch(), actor=request.auth, now=now)
    return _survey_out(survey, _invited([survey]), now)


@router.get("/advocacy/responses", response={200: ResponsePageOut})
def list_responses(request: ApiRequest, filters: Query[ResponseFilterIn]):
    """Answers, the latest first, from the surveys visible to you. Audited as `survey.listed`."""
    found = Response.objects.filter(survey__in=_visible_surveys(request.auth)).select_related(
        "survey"
    )
    if filters.audience:
        found = found.filter(survey__audience=filters.audience)
    if filters.score_min is not None:
        found = found.filter(recommend__gte=filters.score_min)
    if filters.score_max is not None:
        found = found.filter(recommend__lte=filters.score_max)
    if filters.complaint is not None:
        found = found.filter(complaint=filters.complaint)
    found = _since(found, "submitted_at", filters.submitted_from, filters.submitted_to)
    rows, total = _page(found.order_by("-submitted_at", "-pk"), filters.limit, filters.offset)
    if rows:
        audit.record_many(
            "survey.listed", [r.survey.audit_touch() for r in rows], actor=request.auth
        )
    return {
        "items": [_response_out(r, r.survey) for r in rows],
        "total": total,
        "limit": filters.limit,
        "offset": filters.offset,
    }


@router.post("/advocacy/surveys", response={201: SurveyOut, **errors(409)})
def send_survey(request: ApiRequest, payload: SurveySendIn, response: HttpResponse):
    """Send the patient of a referral the survey now (as staff do by hand). 409, saying why,
    when the patient may not get one: within the survey interval (which also makes a retry
    harmless), without consent, no way to reach them, or the message switched off.
    `referral_id` names a referral visible to you (422 otherwise)."""
    user = request.auth
    _feedback(user)
    referral = visible_referrals(user).filter(pk=payload.referral_id).first()
    if referral is None:
        raise InvalidInput("referral_id names no referral visible to you.", field="referral_id")
    survey = sending.send_survey_by_hand(referral=referral, acting_user=user, now=timezone.now())
    response["Location"] = f"/api/v1/advocacy/surveys/{survey.pk}"
    return Status(201, _survey_out(survey, set(), timezone.now()))


@router.post(
    "/advocacy/surveys/{survey_id}/review-invitation",
    response={201: ReviewInvitationOut, **errors(409)},
)
def invite_to_review(request: ApiRequest, survey_id: PathId):
    """Invite the patient of an unanswered survey to review us, with the same links every
    respondent is offered. 409 when they answered, were invited within the survey interval,
    cannot be reached, or no review site is set up."""
    survey = _survey(request.auth, survey_id)
    invitation = sending.invite_to_review(
        survey=survey, acting_user=request.auth, now=timezone.now()
    )
    return Status(
        201,
        {
            "id": invitation.pk,
            "survey_id": survey.pk,
            "via": invitation.via,
            "created_at": invitation.created_at,
            "message_id": invitation.message_id,
        },
    )


# ---- cases -------------------------------------------------------------------------------


def _case_out(case: Case, user: User, now: datetime) -> dict:
    clock = case_clocks.running_clock(case, now=now)
    return {
        "id": case.pk,
        "number": case.number,
        "source": case.source,
        "category": case.category,
        "state": case.state,
        "summary": case.summary,
        "patient": _patient(case.patient),
        "referral_id": case.referral_id,
        "referring_practice_id": case.referring_practice_id,
        "department_id": case.department_id,
        "owner": _person(case.owner),
        "opened_at": case.opened_at,
        "acknowledge_by": case.acknowledge_by,
        "resolve_by": case.resolve_by,
        "acknowledged_at": case.acknowledged_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
        "outcome": case.outcome,
        "action_taken": case.action_taken,
        "version": case.version,
        "clock": None
        if clock is None
        else {"name": clock.name, "due_at": clock.due_at, "late": clock.late, "words": clock.words},
        "moves": [m.key for m in cases.moves_for(case, user)],
    }


@router.get("/advocacy/cases", response={200: CasePageOut})
def list_cases(request: ApiRequest, filters: Query[CaseFilterIn]):
    """Cases as the case list shows them (yours, all, or overdue; open or acknowledged
    unless `state` says otherwise), the soonest resolve-by first. Audited as `case.listed`."""
    _feedback(request.auth)
    now = timezone.now()
    params = {"show": filters.show, "state": filters.state or "", "category": filters.category}
    _, found = case_views.filtered(
        {k: v for k, v in params.items() if v is not None}, request.auth, now
    )
    rows, total = _page(found, filters.limit, filters.offset)
    if rows:
        audit.record_many(
            "case.listed", [c.audit_touch() for c in rows], actor=request.auth, now=now
        )
    return {
        "items": [_case_out(c, request.auth, now) for c in rows],
        "total": total,
        "limit": filters.limit,
        "offset": filters.offset,
    }


def _case(user: User, case_id: int) -> Case:
    _feedback(user)
    case = Case.objects.select_related("owner", "patient", "department").filter(pk=case_id).first()
    if case is None:
        raise NotFound("No case with this id.")
    return case


def _case_detail(case: Case, user: User, now: datetime) -> dict:
    audit.record("case.read", case.audit_touch(), actor=user, now=now)
    return {
        **_case_out(case, user, now),
        "timeline": [
            {
                "kind": entry["event"].kind,
                "at": entry["event"].at,
                "who": entry["who"],
                "said": entry["said"],
                "note": entry["note"],
            }
            for entry in case_views.timeline(case)
        ],
    }


@router.get("/advocacy/cases/{case_id}", response={200: CaseDetailOut})
def get_case(request: ApiRequest, case_id: PathId):
    """One case with its clock and timeline. Audited as `case.read`."""
    return _case_detail(_case(request.auth, case_id), request.auth, timezone.now())


@router.post(
    "/advocacy/cases",
    response={201: CaseDetailOut, 200: CaseDetailOut, **errors(409)},
    openapi_extra={
        "responses": {200: replayed("the case opened first"), 201: {"description": "Opened"}}
    },
    description=(
        "Open a case for a complaint heard on the phone or in person. `referral_id` names a "
        "referral visible to you, `owner_id` someone who handles patient feedback (422 "
        "otherwise)." + IDEMPOTENCY
    ),
)
def open_case(
    request: ApiRequest,
    payload: CaseIn,
    response: HttpResponse,
    idempotency_key: str | None = _key_header("case"),
):
    """Open a case (201), or replay an earlier one by its Idempotency-Key (200)."""
    user = request.auth
    _feedback(user)
    fingerprint = _fingerprint(request) if idempotency_key else ""
    case = _earlier(Case, idempotency_key, fingerprint, user, "opened_by")
    created = case is None
    if case is None:
        referral = None
        if payload.referral_id is not None:
            referral = visible_referrals(user).filter(pk=payload.referral_id).first()
            if referral is None:
                raise InvalidInput(
                    "referral_id names no referral visible to you.", field="referral_id"
                )
        owner = None
        if payload.owner_id is not None:
            owner = User.objects.filter(pk=payload.owner_id).first()
            if owner is None:
                raise InvalidInput("owner_id names no user.", field="owner_id")
        try:
            case = cases.open_case(
                acting_user=user,
                source=payload.source,
                category=payload.category,
                summary=payload.summary,
                referral=referral,
                owner=owner,
                now=timezone.now(),
                client_key=idempotency_key or None,
                client_fingerprint=fingerprint,
            )
        except InvalidInput as refused:
            if refused.field == "owner":
                raise InvalidInput(refused.message, field="owner_id") from refused
            raise
    response["Location"] = f"/api/v1/advocacy/cases/{case.pk}"
    case = _case(user, case.pk)
    if not created:
        response["Idempotent-Replayed"] = "true"
        return Status(200, _case_detail(case, user, timezone.now()))
    return Status(201, _case_detail(case, user, timezone.now()))


def _moves_description() -> str:
    return "; ".join(
        f"`{m.key}` from {'/'.join(m.from_states)} ({', '.join(m.needs) or 'no fields'})"
        for m in cases.MOVES.values()
    )


@router.post(
    "/advocacy/cases/{case_id}/moves",
    response={200: CaseDetailOut, **errors(409)},
    description=(
        "Make a move on the case, with the fields it reads (`owner` is `owner_id` here).\n\n"
        "409 when the move is not allowed from the case's state (the answer says why) or "
        "`expected_version` is stale; only then 422 for a field the move needs and did not "
        "get. `moves` on a case lists those you may make now. The moves: " + _moves_description()
    ),
)
def move_case(request: ApiRequest, case_id: PathId, payload: CaseMoveIn):
    """Acknowledge, reassign, resolve, close or reopen the case."""
    user = request.auth
    case = _case(user, case_id)
    move = cases.MOVES[payload.move]
    if case.state not in move.from_states:
        raise Conflict(
            f"This case is {CaseState(case.state).label.lower()}: {move.key} is possible only "
            f"when it is {' or '.join(move.from_states)}."
        )
    if payload.expected_version is not None and payload.expected_version != case.version:
        raise Conflict("The case changed since you loaded it; load it again.")
    fields: dict = {
        "note": payload.note,
        "outcome": payload.outcome or "",
        "action_taken": payload.action_taken,
        "reason": payload.reason,
    }
    if payload.move == "reassign":
        fields["owner"] = None
        if payload.owner_id is not None:
            fields["owner"] = User.objects.filter(pk=payload.owner_id).first()
            if fields["owner"] is None:
                raise InvalidInput("owner_id names no user.", field="owner_id")
    try:
        cases.apply_move(payload.move, case, acting_user=user, now=timezone.now(), **fields)
    except InvalidInput as refused:
        if refused.field == "owner":
            raise InvalidInput(refused.message, field="owner_id") from refused
        raise
    return _case_detail(_case(user, case_id), user, timezone.now())


# ---- advocates and rewards ---------------------------------------------------------------


def _year() -> int:
    return timezone.localdate(timezone.now(), Organization.current().zone).year


def _reward_out(reward: Reward) -> dict:
    return {
        "id": reward.pk,
        "item_id": reward.item_id,
        "item_name": reward.item.name,
        "value_cents": reward.value_cents,
        "year": reward.year,
        "given_on": reward.given_on,
        "friend_referral_id": reward.friend_referral_id,
        "given_by": _person(reward.given_by),
    }


def _advocate_out(advocate: Advocate, brought: int, given: int) -> dict:
    return {
        "id": advocate.pk,
        "patient": _patient(advocate.patient),
        "active": advocate.active,
        "opted_in_at": advocate.opted_in_at,
        "opted_out_at": advocate.opted_out_at,
        "referrals_brought": brought,
        "given_this_year_cents": given,
    }


@router.get("/advocacy/advocates", response={200: AdvocatePageOut})
def list_advocates(request: ApiRequest, filters: Query[AdvocateFilterIn]):
    """Advocates, the latest to join first, with the referrals they brought and this year's
    thank-you gifts. Audited as `advocate.viewed`."""
    _feedback(request.auth)
    found = Advocate.objects.select_related("patient").annotate(
        brought=Count("referrals", distinct=True)
    )
    if filters.active is not None:
        found = found.filter(opted_out_at__isnull=filters.active)
    rows, total = _page(found.order_by("-opted_in_at", "pk"), filters.limit, filters.offset)
    if rows:
        audit.record_many(
            "advocate.viewed", [advocates.advocate_touch(a) for a in rows], actor=request.auth
        )
    year = _year()
    return {
        "items": [_advocate_out(a, a.brought, rewards.given_in(a, year)) for a in rows],
        "total": total,
        "limit": filters.limit,
        "offset": filters.offset,
    }


def _advocate(user: User, advocate_id: int) -> Advocate:
    _feedback(user)
    advocate = Advocate.objects.select_related("patient").filter(pk=advocate_id).first()
    if advocate is None:
        raise NotFound("No advocate with this id.")
    return advocate


def _advocate_detail(advocate: Advocate, user: User) -> dict:
    audit.record("advocate.viewed", advocates.advocate_touch(advocate), actor=user)
    found = AdvocacySettings.current()
    friends = list(
        FriendReferral.objects.filter(advocate=advocate).order_by("-referral__received_at", "pk")
    )
    ledger = advocate.rewards.select_related("item", "given_by").order_by("-created_at", "-pk")
    return {
        **_advocate_out(advocate, len(friends), rewards.given_in(advocate, _year())),
        "link": advocates.personal_link(advocate) if advocate.active else "",
        "friends": [
            {
                "id": friend.pk,
                "referral_id": friend.referral_id,
                "may_name_friend": friend.may_name_friend,
                "thanked_at": friend.thanked_at,
            }
            for friend in friends
        ],
        "ledger": [_reward_out(r) for r in ledger],
        "year_limit_cents": REWARD_YEAR_LIMIT_CENTS,
        "rewards_enabled": found.rewards_enabled,
        "barred_state": rewards.barred_state(advocate) if found.rewards_enabled else None,
    }


@router.get("/advocacy/advocates/{advocate_id}", response={200: AdvocateDetailOut})
def get_advocate(request: ApiRequest, advocate_id: PathId):
    """One advocate: their link, the referrals they brought (with each friend's answer to
    being named) and their ledger. Audited as `advocate.viewed`."""
    return _advocate_detail(_advocate(request.auth, advocate_id), request.auth)


@router.post("/advocacy/advocates", response={201: AdvocateDetailOut, 200: AdvocateDetailOut})
def enrol_advocate(request: ApiRequest, payload: AdvocateIn, response: HttpResponse):
    """Enrol the patient of a referral visible to you, once they agreed (their personal link
    is sent to them): 201. A patient who already is an active advocate stays as they are:
    200 with them. `referral_id` names a referral visible to you (422 otherwise)."""
    user = request.auth
    _feedback(user)
    referral = visible_referrals(user).select_related("patient").filter(pk=payload.referral_id)
    found = referral.first()
    if found is None:
        raise InvalidInput("referral_id names no referral visible to you.", field="referral_id")
    already = Advocate.objects.filter(patient=found.patient, opted_out_at__isnull=True).exists()
    advocate = advocates.enrol(
        patient=found.patient, acting_user=user, via=advocates.BY_STAFF, now=timezone.now()
    )
    response["Location"] = f"/api/v1/advocacy/advocates/{advocate.pk}"
    detail = _advocate_detail(_advocate(user, advocate.pk), user)
    return Status(200 if already else 201, detail)


@router.post(
    "/advocacy/advocates/{advocate_id}/opt-out",
    response={200: AdvocateDetailOut, **errors(409)},
)
def opt_out_advocate(request: ApiRequest, advocate_id: PathId):
    """The patient no longer refers friends: their link leads to the ordinary form from now
    on. 409 if they already opted out."""
    advocate = _advocate(request.auth, advocate_id)
    advocates.opt_out(advocate=advocate, acting_user=request.auth, now=timezone.now())
    return _advocate_detail(_advocate(request.auth, advocate_id), request.auth)


@router.post(
    "/advocacy/advocates/{advocate_id}/rewards",
    response={201: RewardGivenOut, 200: RewardGivenOut, **errors(409)},
    openapi_extra={
        "responses": {200: replayed("the gift written first"), 201: {"description": "Given"}}
    },
    description=(
        "Write a thank-you gift in the advocate's ledger: an item of the practice's list, "
        "never cash, each within $15 and all within $75 a patient a calendar year (OIG "
        "nominal value). 409 with the sentence when rewards are switched off, barred in the "
        "patient's state, the patient opted out, or the item would take the year past $75; "
        "422 when the item is off the list (field `item_id`) or the friend's referral did not "
        "come through this advocate (field `friend_referral_id`)." + IDEMPOTENCY
    ),
)
def give_reward(
    request: ApiRequest,
    advocate_id: PathId,
    payload: RewardIn,
    response: HttpResponse,
    idempotency_key: str | None = _key_header("gift"),
):
    """Give a thank-you gift (201), or replay an earlier one by its Idempotency-Key (200)."""
    user = request.auth
    advocate = _advocate(user, advocate_id)
    fingerprint = _fingerprint(request) + str(advocate.pk) if idempotency_key else ""
    fingerprint = hashlib.sha256(fingerprint.encode()).hexdigest() if fingerprint else ""
    reward = _earlier(Reward, idempotency_key, fingerprint, user, "given_by")
    created = reward is None
    if reward is None:
        item = RewardItem.objects.filter(pk=payload.item_id).first()
        if item is None:
            raise InvalidInput("item_id names no item of the practice's list.", field="item_id")
        friend = None
        if payload.friend_referral_id is not None:
            friend = FriendReferral.objects.filter(pk=payload.friend_referral_id).first()
            if friend is None:
                raise InvalidInput(
                    "friend_referral_id names no friend's referral.", field="friend_referral_id"
                )
        now = timezone.now()
        try:
            reward = rewards.give_reward(
                advocate=advocate,
                item=item,
                friend_referral=friend,
                acting_user=user,
                now=now,
                client_key=idempotency_key or None,
                client_fingerprint=fingerprint,
            )
        except InvalidInput as refused:
            names = {"item": "item_id", "friend_referral": "friend_referral_id"}
            if refused.field in names:
                raise InvalidInput(refused.message, field=names[refused.field]) from refused
            raise
        created = reward.created_at == now
    answer = {
        "reward": _reward_out(Reward.objects.select_related("item", "given_by").get(pk=reward.pk)),
        "given_this_year_cents": rewards.given_in(advocate, reward.year),
        "year_limit_cents": REWARD_YEAR_LIMIT_CENTS,
    }
    if not created:
        response["Idempotent-Replayed"] = "true"
        return Status(200, answer)
    return Status(201, answer)


@router.get("/advocacy/reward-items", response={200: list[RewardItemOut]})
def list_reward_items(request: ApiRequest):
    """The practice's list of thank-you items (the settings page changes it), cheapest first."""
    _feedback(request.auth)
    return list(RewardItem.objects.order_by("-active", "value_cents", "name"))


# ---- testimonials ------------------------------------------------------------------------


def _testimonial_out(testimonial: Testimonial, user: User, now: datetime) -> dict:
    authorization = testimonial.authorization
    return {
        "id": testimonial.pk,
        "patient": _patient(testimonial.patient),
        "state": testimonial.state,
        "text": testimonial.text,
        "attribution": testimonial.attribution,
        "has_photo": bool(testimonial.photo),
        "created_at": testimonial.created_at,
        "reviewed_at": testimonial.reviewed_at,
        "standing": testimonial_staff_views.standing(testimonial, now),
        "publishable": testimonials.is_publishable(testimonial, now),
        "authorization": None
        if authorization is None
        else {
            "id": authorization.pk,
            "signed_at": authorization.signed_at,
            "expires_on": authorization.expires_on,
            "expiry_event": authorization.expiry_event,
            "expiry_event_occurred_at": authorization.expiry_event_occurred_at,
            "revoked_at": authorization.revoked_at,
            "revoked_how": authorization.revoked_how,
        },
        "moves": [m.key for m in testimonials.moves_for(user, testimonial)],
    }


@router.get("/advocacy/testimonials", response={200: TestimonialPageOut})
def list_testimonials(request: ApiRequest, filters: Query[TestimonialFilterIn]):
    """Testimonials offered, newest first, with their authorization's standing. Audited as
    `testimonial.listed`."""
    _feedback(request.auth)
    now = timezone.now()
    found = Testimonial.objects.select_related("authorization", "patient")
    if filters.state:
        found = found.filter(state=filters.state)
    rows, total = _page(found.order_by("-created_at", "-pk"), filters.limit, filters.offset)
    if rows:
        audit.record_many(
            "testimonial.listed", [t.audit_touch() for t in rows], actor=request.auth, now=now
        )
    return {
        "items": [_testimonial_out(t, request.auth, now) for t in rows],
        "total": total,
        "limit": filters.limit,
        "offset": filters.offset,
    }


@router.get("/advocacy/testimonials/publishable", response={200: list[PublishedOut]})
def list_publishable_testimonials(request: ApiRequest):
    """What the widget shows and the export holds now, and only that (the same selector):
    approved under a signed, unexpired, unrevoked authorization. Audited as
    `testimonial.listed`."""
    _feedback(request.auth)
    now = timezone.now()
    shown = list(testimonials.publishable(now))
    if shown:
        audit.record_many(
            "testimonial.listed", [t.audit_touch() for t in shown], actor=request.auth, now=now
        )
    return [
        {
            "id": t.pk,
            "text": t.text,
            "attribution": t.attribution,
            "has_photo": bool(t.photo),
            "approved_at": t.reviewed_at,
        }
        for t in shown
    ]


def _testimonial(user: User, testimonial_id: int) -> Testimonial:
    _feedback(user)
    found = (
        Testimonial.objects.select_related("authorization", "patient")
        .filter(pk=testimonial_id)
        .first()
    )
    if found is None:
        raise NotFound("No testimonial with this id.")
    return found


def _testimonial_detail(user: User, testimonial_id: int) -> dict:
    testimonial = _testimonial(user, testimonial_id)
    now = timezone.now()
    audit.record("testimonial.viewed", testimonial.audit_touch(), actor=user, now=now)
    return _testimonial_out(testimonial, user, now)


@router.get("/advocacy/testimonials/{testimonial_id}", response={200: TestimonialOut})
def get_testimonial(request: ApiRequest, testimonial_id: PathId):
    """One testimonial and its authorization. Audited as `testimonial.viewed`."""
    return _testimonial_detail(request.auth, testimonial_id)


def _review(request: ApiRequest, testimonial_id: int, move: str) -> dict:
    testimonial = _testimonial(request.auth, testimonial_id)
    require(request.auth, testimonials.MOVES[move].capability)
    testimonials.review_testimonial(
        testimonial, move=move, acting_user=request.auth, now=timezone.now()
    )
    return _testimonial_detail(request.auth, testimonial_id)


@router.post(
    "/advocacy/testimonials/{testimonial_id}/approve",
    response={200: TestimonialOut, **errors(409)},
)
def approve_testimonial(request: ApiRequest, testimonial_id: PathId):
    """Approve for publication (PUBLISH_TESTIMONIALS): 409 unless it waits for review under a
    signed, unexpired, unrevoked authorization."""
    return _review(request, testimonial_id, "approve")


@router.post(
    "/advocacy/testimonials/{testimonial_id}/decline",
    response={200: TestimonialOut, **errors(409)},
)
def decline_testimonial(request: ApiRequest, testimonial_id: PathId):
    """Do not use it (PUBLISH_TESTIMONIALS): 409 unless it waits for review."""
    return _review(request, testimonial_id, "decline")


@router.post(
    "/advocacy/testimonials/{testimonial_id}/revocation",
    response={200: TestimonialOut, **errors(409)},
)
def revoke_testimonial_authorization(
    request: ApiRequest, testimonial_id: PathId, payload: RevocationIn
):
    """Record a revocation the patient made in writing: from now on nothing under the
    authorization is shown or exported. 409 when there is no signed authorization or it is
    already revoked."""
    testimonial = _testimonial(request.auth, testimonial_id)
    if testimonial.authorization is None:
        raise Conflict("This testimonial has no signed authorization to revoke.")
    testimonials.revoke_authorization(
        testimonial.authorization,
        how=f"In writing: {payload.how.strip()}",
        acting_user=request.auth,
        now=timezone.now(),
    )
    return _testimonial_detail(request.auth, testimonial_id)
