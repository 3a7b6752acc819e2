"""The demo practice's patient feedback and advocates: review sites, a year of post-visit
surveys with a realistic NPS, the review offer on every thank-you page and the clicks it got,
the cases the low scores and complaints opened (most closed, one acknowledged, one overdue),
a few advocates with the friends they brought and a thank-you ledger, three testimonials (one
revoked), and four quarters of referring-office answers.

Built after the referral history through the advocacy services with `now` in the past and
side effects suppressed, as the replay is: the reactions that matter (a case for a low score,
a liaison's task for a low office answer, the overdue case's notices) are run here, once.
"""

import random
from datetime import date, datetime, timedelta

from refloop.advocacy import (
    advocates,
    case_clocks,
    cases,
    feedback_settings,
    office,
    reviews,
    rewards,
    sending,
    surveys,
    testimonials,
)
from refloop.advocacy.models import (
    AdvocacyEvent,
    AdvocacySettings,
    Audience,
    Case,
    CaseCategory,
    CaseOutcome,
    CaseSource,
    Response,
    Survey,
    Trigger,
)
from refloop.core import context, reactions
from refloop.core.models import User
from refloop.messaging.recipients import referrer_of, staff_contact
from refloop.messaging.rules import rule
from refloop.network.models import Practice, StaffContact
from refloop.outreach.models import Relationship
from refloop.practice.models import Location
from refloop.referrals import effects
from refloop.referrals.models import (
    Appointment,
    AppointmentOutcome,
    Direction,
    Referral,
    ReferralEvent,
    State,
)

YEAR = 365
# The recent days whose messages the seed queues as the worker would have (seed._recent_messages).
RECENT = timedelta(days=3)
# Of those who answer: how many answer at all, and the share of promoters and detractors
# (NPS = promoters - detractors), before each department's and month's lean.
RESPONSE_RATE = 0.35
PROMOTERS, DETRACTORS = 0.64, 0.10
DEPARTMENT_LEAN = {"spine": -0.05, "joint": 0.04, "sports-hand": 0.02}
# Late winter is when the waiting room is fullest: fewer promoters then.
MONTH_LEAN = {12: -0.04, 1: -0.06, 2: -0.05, 6: 0.03, 7: 0.03}

PRAISE = [
    "Dr. explained everything and never rushed me. I knew what to expect before surgery.",
    "The front desk remembered me from last time. Friendly and quick.",
    "Seen on time, clear plan, and the exercises already help my knee.",
    "Everyone was kind. The physician assistant answered all my questions.",
    "Easy to book online and the reminder text was handy.",
    "Great care from start to finish. I would send my family here.",
    "They got me in within a week of my doctor's referral. Thank you!",
]
NEUTRAL = [
    "Visit was fine. Parking at the main clinic is tight in the morning.",
    "Good care, but the forms asked for the same things twice.",
    "OK overall. I would have liked the x-ray results explained in more detail.",
    "Pleasant enough. The waiting room TV was loud.",
]
# Each reads as a complaint (refloop.advocacy.complaints) and names its category.
COMPLAINTS = [
    "I waited over an hour past my appointment time and nobody explained why.",
    "Nobody called back about my MRI results, I had to call three times.",
    "I was billed twice for the same visit and the billing office was not helpful.",
    "The receptionist at check-in was rude to me.",
    "Could not get an appointment for five weeks even though my doctor said it was urgent.",
    "The doctor did not listen to me and seemed in a hurry.",
    "The restroom in the waiting area was dirty.",
]
ACTIONS = {
    CaseCategory.ACCESS: "Called the patient, booked the next urgent slot and apologised.",
    CaseCategory.WAIT: "Apologised by phone; clinic manager reviewed the overbooked session.",
    CaseCategory.COMMUNICATION: "Clinician called the patient back and went through the results.",
    CaseCategory.BILLING: "Billing refunded the duplicate charge and wrote to confirm it.",
    CaseCategory.CLINICAL: "Offered a follow-up visit with another surgeon; patient accepted.",
    CaseCategory.STAFF: "Spoke with the team member; apologised to the patient by phone.",
    CaseCategory.FACILITY: "Facilities fixed the cleaning rota; thanked the patient for telling us.",
    CaseCategory.OTHER: "Called the patient, listened, and passed the points on to the team.",
}
OFFICE_COMMENTS = [
    "Your coordinators are quick to confirm receipt.",
    "Consult notes come back fast now, thank you.",
    "Would like a direct line for urgent referrals.",
]
LOW_OFFICE_COMMENT = "Our last three patients waited weeks and we heard nothing back."
# Each in the words of a patient of that department.
TESTIMONIALS = {
    "spine": "After two years of back pain I can walk my dog again. The team explained every "
    "step and called me the day after surgery to check on me.",
    "joint": "I was nervous about my knee replacement. Everyone was patient with my questions "
    "and I was back on my bike by spring.",
    "sports-hand": "They saw me within days of my fall and my wrist healed well. Kind people, "
    "clear advice.",
}
REWARD_ITEMS = [("Lakeside Orthopedics water bottle", 900), ("Lakeside Orthopedics tote bag", 1200)]


def seed_advocacy(rng: random.Random, users: dict[str, User], now: datetime, zone) -> dict:
    """Everything above, into a database holding the replayed referrals; returns counts."""
    AdvocacySettings.current()
    admin = users["admin"]
    _review_sites(admin, now)
    # The practice's and the feedback settings' rows read once, as within a request.
    with effects.suppressed(), context.remembering():
        answered = _patient_surveys(rng, now, zone)
        made_cases = _cases(rng, users, now)
        friends = _advocates(rng, users, now, zone)
        shown = _testimonials(users, now)
        offices = _office_feedback(rng, now, zone)
    return {
        "responses": answered,
        "cases": made_cases,
        "friend_referrals": friends,
        "testimonials": shown,
        "office_responses": offices,
    }


def _react(event: AdvocacyEvent, path: str) -> None:
    """Run one reaction the suppressed history did not queue, as the worker would, once."""
    reactions.run_once(event, path)


def _review_sites(admin: User, now: datetime) -> None:
    """Google for each location, Healthgrades for the practice as a whole."""
    for location in Location.objects.order_by("pk"):
        slug = "".join(ch for ch in location.name.lower() if ch.isalnum())
        feedback_settings.add_site(
            acting_user=admin,
            name="Google",
            url=f"https://g.page/r/lakeside-ortho-{slug}/review",
            location=location,
            now=now - timedelta(days=YEAR + 30),
        )
    feedback_settings.add_site(
        acting_user=admin,
        name="Healthgrades",
        url="https://www.healthgrades.com/group-directory/il-illinois/springfield/lakeside-orthopedics",
        location=None,
        now=now - timedelta(days=YEAR + 30),
    )


# ---- patients' surveys ------------------------------------------------------------------


def _score(rng: random.Random, department: str, month: int) -> int:
    lean = DEPARTMENT_LEAN.get(department, 0.0) + MONTH_LEAN.get(month, 0.0)
    draw = rng.random()
    if draw < PROMOTERS + lean:
        return rng.choice([9, 10, 10])
    if draw < 1 - DETRACTORS + lean / 2:
        return rng.choice([7, 8, 8])
    return rng.choice([2, 4, 5, 6, 6])


def _answers(rng: random.Random, recommend: int) -> dict[str, int]:
    centre = 5 if recommend >= 9 else 4 if recommend >= 7 else 2
    keys = [q.key for q in surveys.questions_for(Audience.PATIENT)]
    return {
        key: max(1, min(5, centre + rng.choice([-1, 0, 0, 0, 1])))
        for key in keys
        if rng.random() < 0.95
    }


def _comment(rng: random.Random, recommend: int) -> str:
    if recommend >= 9:
        return rng.choice(PRAISE) if rng.random() < 0.45 else ""
    if recommend >= 7:
        if rng.random() < 0.08:
            return rng.choice(COMPLAINTS)  # a passive with a grievance: a case all the same
        return rng.choice(NEUTRAL) if rng.random() < 0.35 else ""
    return rng.choice(COMPLAINTS) if rng.random() < 0.7 else ""


def _patient_surveys(rng: random.Random, now: datetime, zone) -> int:
    """A survey for each inbound referral seen in the last year (the recent ones were sent by
    `seed._recent_messages` with their messages), about a third answered, each respondent
    offered the same review links, and the reactions to each answer run."""
    seen = (
        ReferralEvent.objects.filter(
            kind="referral.seen",
            referral__direction=Direction.INBOUND,
            at__gte=now - timedelta(days=YEAR),
            at__lt=now - RECENT,
        )
        .select_related("referral__patient", "referral__department", "referral__referring_practice")
        .order_by("at", "pk")
    )
    delay = rule("patient.survey").offset()
    # Each referral's latest attended visit, in one query rather than one per survey.
    attended = {
        visit.referral_id: visit
        for visit in Appointment.objects.filter(
            referral__in=seen.values("referral"), outcome=AppointmentOutcome.ATTENDED
        )
        .select_related("department", "location", "clinician")
        .order_by("starts_at", "pk")
    }
    answered = 0
    for event in seen:
        referral = event.referral
        sent_at = event.at + delay
        if sending.why_not(referral, now=sent_at):
            continue
        survey, _ = surveys.create_survey(
            audience=Audience.PATIENT,
            trigger=Trigger.SEEN,
            recipient=f"patient:{referral.patient_id}",
            dedupe_key=f"seen:{referral.pk}",
            now=sent_at,
            **sending.dimensions(referral, attended.get(referral.pk)),
        )
        if rng.random() >= RESPONSE_RATE:
            continue
        at = sent_at + timedelta(hours=rng.randrange(1, 96))
        if at >= now:
            continue
        local = at.astimezone(zone)
        department = referral.department.code if referral.department else ""
        recommend = _score(rng, department, local.month)
        surveys.submit_response(
            survey=survey,
            recommend=recommend,
            answers=_answers(rng, recommend),
            comment=_comment(rng, recommend),
            now=at,
        )
        _thank_you_page(rng, survey, recommend, at, now)
        answered_event = AdvocacyEvent.objects.get(survey=survey, kind="survey.answered")
        _react(answered_event, "refloop.advocacy.case_reactions.case_for_answer")
        answered += 1
    return answered


def _thank_you_page(rng, survey: Survey, recommend: int, at: datetime, now: datetime) -> None:
    """The offer every respondent sees; some follow a link (the happy ones a little more often,
    as in life: the offer itself is the same for all)."""
    offered = reviews.offer_on_thank_you(survey, now=at)
    assert offered is not None  # a patient's survey
    invitation, offer = offered
    if offer.sites and rng.random() < (0.3 if recommend >= 9 else 0.12):
        site_id = rng.choice(offer.sites)[0]
        reviews.record_click(invitation.code, site_id, now=min(now, at + timedelta(minutes=2)))


# ---- service recovery ---------------------------------------------------------------------


def _cases(rng: random.Random, users: dict[str, User], now: datetime) -> int:
    """Work the cases the answers opened: those older than a week acknowledged within a day or
    so, resolved within the week (a few late), closed; the newest left acknowledged. Then a
    complaint from the portal, acknowledged, and one by phone nobody has picked up: its
    acknowledge clock has run out, and the escalation's notices are out."""
    fallback = users["coordinator"]
    for case in Case.objects.order_by("opened_at", "pk"):
        worker = case.owner or fallback
        acknowledged = case.opened_at + timedelta(hours=rng.choice([2, 4, 6, 20, 30]))
        if acknowledged >= now:
            continue
        cases.acknowledge(
            case, acting_user=worker, now=acknowledged, note="Called the patient and listened."
        )
        resolved = acknowledged + timedelta(days=rng.choice([1, 2, 3, 5, 6, 9]))
        if case.opened_at > now - timedelta(days=8) or resolved >= now - timedelta(days=1):
            continue
        outcome = rng.choices(
            [CaseOutcome.RESOLVED, CaseOutcome.PARTLY, CaseOutcome.NO_RESPONSE], [0.7, 0.2, 0.1]
        )[0]
        cases.resolve(
            case,
            acting_user=worker,
            outcome=outcome,
            action_taken=ACTIONS[CaseCategory(case.category)],
            now=resolved,
        )
        cases.close(case, acting_user=worker, now=resolved + timedelta(days=1))
    _portal_complaint(users, now)
    _phone_complaint(users, now)
    return Case.objects.count()


def _seen_referral(**about) -> Referral | None:
    return (
        Referral.objects.filter(direction=Direction.INBOUND, state=State.LOOP_CLOSED, **about)
        .order_by("-state_changed_at", "-pk")
        .first()
    )


def _portal_complaint(users: dict[str, User], now: datetime) -> None:
    sender = users.get("portal-a")
    if sender is None:
        return
    referral = _seen_referral(referring_practice=sender.partner_practice)
    opened = now - timedelta(days=2)
    case = cases.open_case(
        acting_user=sender,
        source=CaseSource.PORTAL,
        category=CaseCategory.COMMUNICATION,
        summary="We sent the patient three weeks ago and still have no consult note.",
        referral=referral,
        now=opened,
    )
    cases.acknowledge(
        case,
        acting_user=case.owner or users["coordinator"],
        now=opened + timedelta(hours=3),
        note="Called the office manager; the note goes out today.",
    )


def _phone_complaint(users: dict[str, User], now: datetime) -> None:
    coordinator = users["coordinator"]
    referral = _seen_referral(department__code="spine")
    opened = now - timedelta(days=4)
    case = cases.open_case(
        acting_user=coordinator,
        source=CaseSource.PHONE,
        category=CaseCategory.BILLING,
        summary="Caller says the statement shows a charge for a visit that was cancelled.",
        referral=referral,
        now=opened,
    )
    if case_clocks.ran_out(case.acknowledge_by, now) and cases.record_overdue(
        case, clock=case_clocks.ACKNOWLEDGE, now=now
    ):
        overdue = AdvocacyEvent.objects.get(case=case, kind="case.acknowledge_overdue")
        _react(overdue, "refloop.advocacy.case_reactions.notify_overdue")


# ---- refer a friend -----------------------------------------------------------------------


def _advocates(rng: random.Random, users: dict[str, User], now: datetime, zone) -> int:
    """The patients who sent friends (the history's `patient` referrals) as advocates, the
    busiest five: enrolled before their first friend came, each friend's answer to "may we
    thank the person who referred you?" kept; rewards on, two items, a few given."""
    admin, coordinator = users["admin"], users["coordinator"]
    brought: dict[int, list[Referral]] = {}
    for referral in (
        Referral.objects.filter(direction=Direction.INBOUND, advocate_patient__isnull=False)
        .select_related("advocate_patient")
        .order_by("received_at", "pk")
    ):
        assert referral.advocate_patient_id is not None  # filtered above
        brought.setdefault(referral.advocate_patient_id, []).append(referral)
    chosen = sorted(brought, key=lambda pk: (-len(brought[pk]), brought[pk][0].received_at))[:5]
    rewards.update_settings(
        acting_user=admin, enabled=True, barred_states=[], now=now - timedelta(days=YEAR)
    )
    items = [
        rewards.add_item(
            acting_user=admin,
            name=name,
            value_cents=cents,
            not_cash=True,
            now=now - timedelta(days=YEAR),
        )
        for name, cents in REWARD_ITEMS
    ]
    made = 0
    for patient_id in sorted(chosen, key=lambda pk: brought[pk][0].received_at):
        friends = brought[patient_id]
        advocate = advocates.enrol(
            patient=friends[0].advocate_patient,
            acting_user=coordinator,
            via=advocates.BY_STAFF,
            now=friends[0].received_at - timedelta(days=rng.randrange(5, 40)),
        )
        for referral in friends:
            friend = advocates.record_friend_referral(
                referral=referral,
                advocate=advocate,
                may_name_friend=rng.random() < 0.6,
                now=referral.received_at,
            )
            made += 1
            given = referral.received_at + timedelta(days=rng.randrange(3, 10))
            item = rng.choice(items)
            year = given.astimezone(zone).year
            within = rewards.given_in(advocate, year) + item.value_cents
            if given < now and within <= rewards.REWARD_YEAR_LIMIT_CENTS:
                rewards.give_reward(
                    advocate=advocate,
                    item=item,
                    friend_referral=friend,
                    acting_user=coordinator,
                    now=given,
                )
    return made


# ---- testimonials -------------------------------------------------------------------------


def _testimonials(users: dict[str, User], now: datetime) -> int:
    """Three patients who scored us 9 or 10 offered a few words and signed the authorization; the
    admin approved all three; the third patient later revoked theirs, which took it down."""
    picked = list(
        Response.objects.filter(
            recommend__gte=9,
            survey__audience=Audience.PATIENT,
            submitted_at__lt=now - timedelta(days=60),
        )
        .select_related("survey__patient", "survey__department")
        .order_by("-submitted_at", "pk")
    )
    patients: set[int | None] = set()
    made = 0
    for code, text in TESTIMONIALS.items():
        free = [r for r in picked if r.survey.patient_id not in patients]
        # A patient of that department if one wrote so well of us (a small demo may have none).
        response = next(
            (r for r in free if r.survey.department and r.survey.department.code == code),
            free[0] if free else None,
        )
        if response is None:
            continue
        survey = response.survey
        patients.add(survey.patient_id)
        at = response.submitted_at + timedelta(minutes=5)
        testimonial = testimonials.offer_testimonial(
            survey=survey, text=text, attribution="", photo=None, now=at
        )
        patient = survey.patient
        assert patient is not None  # a patient's survey
        authorization = testimonials.sign_authorization(
            testimonial=testimonial,
            signature=f"{patient.first_name} {patient.last_name}",
            agreed=True,
            expires_on=date(at.year + 2, at.month, 1),
            expiry_event="",
            signer_is_patient=True,
            representative_authority="",
            now=at + timedelta(minutes=3),
        )
        testimonials.review_testimonial(
            testimonial, move="approve", acting_user=users["admin"], now=at + timedelta(days=2)
        )
        if code == "sports-hand":
            testimonials.revoke_authorization(
                authorization,
                how="The patient phoned the front desk to withdraw it.",
                acting_user=users["coordinator"],
                now=now - timedelta(days=12),
            )
        made += 1
    return made


# ---- referring offices --------------------------------------------------------------------


def _quarter_starts(today: date) -> list[date]:
    """The first days of the last four quarters, oldest first."""
    start = office.quarter_start(today)
    starts = []
    for _ in range(4):
        starts.append(start)
        start = office.quarter_start(start - timedelta(days=1))
    return starts[::-1]


def _office_feedback(rng: random.Random, now: datetime, zone) -> int:
    """Each quarter, the staff of a dozen referring practices were asked the three questions;
    about half answered, mostly 4s and 5s. One practice answered low after a closed loop."""
    today = now.astimezone(zone).date()
    sending_practices = list(
        Practice.objects.filter(sent_referrals__direction=Direction.INBOUND)
        .distinct()
        .order_by("name")
    )
    rng.shuffle(sending_practices)
    practices = sending_practices[:14]
    keys = [q.key for q in surveys.questions_for(Audience.OFFICE)]
    answered = 0
    for start in _quarter_starts(today):
        for practice in practices:
            contacts = StaffContact.objects.filter(practice=practice).order_by("pk")
            for contact in contacts:
                recipient = staff_contact(contact)
                sent_at = datetime.combine(start, datetime.min.time(), tzinfo=zone) + timedelta(
                    days=rng.randrange(0, 6), hours=9
                )
                if sent_at >= now - RECENT:
                    continue
                survey, _ = surveys.create_survey(
                    audience=Audience.OFFICE,
                    trigger=Trigger.QUARTERLY,
                    recipient=recipient.key,
                    dedupe_key=office.dedupe_key(recipient.key, sent_at.astimezone(zone).date()),
                    now=sent_at,
                    referring_practice=practice,
                )
                if rng.random() > 0.5:
                    continue
                at = sent_at + timedelta(days=rng.randrange(0, 5), hours=rng.randrange(0, 6))
                if at >= now:
                    continue
                answers = {key: rng.choices([3, 4, 5], [0.1, 0.4, 0.5])[0] for key in keys}
                comment = rng.choice(OFFICE_COMMENTS) if rng.random() < 0.25 else ""
                _answer_office(survey, answers, comment, at)
                answered += 1
    return answered + _unhappy_office(now, zone, keys)


def _answer_office(survey: Survey, answers: dict[str, int], comment: str, at: datetime) -> None:
    surveys.submit_response(survey=survey, recommend=None, answers=answers, comment=comment, now=at)
    event = AdvocacyEvent.objects.get(survey=survey, kind="survey.answered")
    _react(event, "refloop.outreach.signals.on_office_survey_answered")


def _unhappy_office(now: datetime, zone, keys: list[str]) -> int:
    """The latest closed loop of a practice a liaison looks after, in the sample: its
    referring provider answered low the next day, which raised a task for the liaison."""
    with_liaison = Relationship.objects.filter(territory__liaison__isnull=False)
    referral = (
        Referral.objects.filter(
            direction=Direction.INBOUND,
            state=State.LOOP_CLOSED,
            referring_provider__isnull=False,
            referring_practice_id__in=with_liaison.values("practice_id"),
            state_changed_at__lt=now - RECENT - timedelta(days=1),
        )
        .select_related("referring_practice", "referring_provider")
        .order_by("-state_changed_at", "-pk")
        .first()
    )
    recipient = referrer_of(referral) if referral is not None else None
    if referral is None or recipient is None:
        return 0
    closed = referral.state_changed_at
    survey, created = surveys.create_survey(
        audience=Audience.OFFICE,
        trigger=Trigger.LOOP_CLOSED,
        recipient=recipient.key,
        dedupe_key=office.dedupe_key(recipient.key, closed.astimezone(zone).date()),
        now=closed,
        referring_practice=referral.referring_practice,
        referral=referral,
        department_id=referral.department_id,
        source_type=referral.source_type,
    )
    if not created:
        return 0
    low = dict(zip(keys, [2, 1, 1], strict=False))
    _answer_office(survey, low, LOW_OFFICE_COMMENT, closed + timedelta(days=1))
    return 1
