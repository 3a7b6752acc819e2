"""The survey page patients and referring offices reach from their link: public, no sign-in,
made for a phone. Opening it changes nothing (mail scanners open links); only the POST from
the page answers, once. The thank-you page offers every patient respondent the same review
links, each through a counting redirect that only goes to a site that offer holds."""

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from refloop.advocacy import reviews, survey_link
from refloop.advocacy.models import Audience, Survey
from refloop.advocacy.surveys import questions_for, submit_response
from refloop.core.errors import Conflict, InvalidInput
from refloop.practice.models import Organization

RECOMMEND_CHOICES = tuple(range(0, 11))
ANSWER_CHOICES = ((1, "Poor"), (2, "Fair"), (3, "Good"), (4, "Very good"), (5, "Excellent"))
NOT_VALID = "This survey link is not valid."
ANSWERED = "This survey was already answered. Thank you!"
CLOSED = "This survey has closed. Thank you for your time."


def _context(**extra) -> dict:
    org = Organization.current()
    return {"organization": org, "phone": org.phone, **extra}


def _plain(request, sentence: str, *, status: int, survey: Survey | None = None):
    """A plain sentence instead of the form: unknown, answered or closed."""
    thanks = survey is not None and survey.audience == Audience.PATIENT and survey.answered_at
    context = _context(message=sentence, thanks_link=bool(thanks))
    return render(request, "advocacy/survey_problem.html", context, status=status)


def _questions(survey: Survey, answers: dict[str, int]) -> list[dict]:
    return [
        {"key": q.key, "text": q.text, "name": f"q_{q.key}", "chosen": answers.get(q.key)}
        for q in questions_for(survey.audience)
    ]


def _form(request, survey: Survey, *, status=200, error="", field="", posted=None):
    posted = posted or {"recommend": None, "answers": {}, "comment": ""}
    context = _context(
        survey=survey,
        patient=survey.audience == Audience.PATIENT,
        recommend_choices=RECOMMEND_CHOICES,
        answer_choices=ANSWER_CHOICES,
        questions=_questions(survey, posted["answers"]),
        posted=posted,
        error=error,
        error_field=field,
    )
    return render(request, "advocacy/survey.html", context, status=status)


def _number(raw: str | None, low: int, high: int, field: str) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(f"Choose a number from {low} to {high}.", field=field)
    return int(raw)


def _posted(request, survey: Survey) -> dict:
    """What was sent, as the service takes it; a value off the scale is refused by name."""
    posted: dict = {
        "recommend": None,
        "answers": {},
        "comment": request.POST.get("comment", "")[:5000],
    }
    if survey.audience == Audience.PATIENT:
        posted["recommend"] = _number(request.POST.get("recommend"), 0, 10, "recommend")
    for question in questions_for(survey.audience):
        value = _number(request.POST.get(f"q_{question.key}"), 1, 5, f"q_{question.key}")
        if value is not None:
            posted["answers"][question.key] = value
    return posted


@never_cache
@require_GET
def survey_link_view(request, code: str):
    """The link in the message: keep the code in a cookie, then show the survey."""
    return survey_link.hand_over(request, code, to="advocacy_survey")


@never_cache
@require_http_methods(["GET", "POST"])
def survey_page(request):
    survey = survey_link.survey_from(request)
    if survey is None:
        return survey_link.forget(_plain(request, NOT_VALID, status=404))
    now = timezone.now()
    if survey.answered_at is not None:
        return _plain(request, ANSWERED, status=410, survey=survey)
    if survey.expires_at <= now:
        return _plain(request, CLOSED, status=410)
    if request.method == "GET":
        return _form(request, survey)
    posted = {"recommend": None, "answers": {}, "comment": request.POST.get("comment", "")}
    try:
        posted = _posted(request, survey)
        submit_response(
            survey=survey,
            recommend=posted["recommend"],
            answers=posted["answers"],
            comment=posted["comment"],
            now=now,
        )
    except InvalidInput as error:
        return _form(
            request, survey, status=422, error=error.message, field=error.field or "", posted=posted
        )
    except Conflict:
        survey.refresh_from_db(fields=["answered_at", "expires_at"])
        sentence = ANSWERED if survey.answered_at else CLOSED
        return _plain(request, sentence, status=409, survey=survey)
    return survey_link.see_other("advocacy_survey_thanks")


@never_cache
@require_GET
def thanks(request):
    """Thank you; for a patient, the review offer every respondent gets, recorded."""
    survey = survey_link.survey_from(request)
    if survey is None:
        return survey_link.forget(_plain(request, NOT_VALID, status=404))
    if survey.answered_at is None:
        return survey_link.see_other("advocacy_survey")
    made = reviews.offer_on_thank_you(survey, now=timezone.now())
    # Every patient respondent, whatever the score, is also asked the same two things.
    context = _context(offer=None, links=[], patient=survey.audience == Audience.PATIENT)
    if made is not None:
        invitation, offer = made
        context["offer"] = offer
        context["links"] = [
            {"name": name, "url": reviews.click_url(invitation, site_id)}
            for site_id, name, _ in offer.sites
        ]
    return render(request, "advocacy/survey_thanks.html", context)


@never_cache
@require_GET
def review_click(request, code: str, site_id: int):
    """Count the click, then go to the review site: only one the invitation offers."""
    url = reviews.record_click(code, site_id, now=timezone.now())
    if url is None:
        return _plain(request, "This review link is not valid.", status=404)
    return HttpResponseRedirect(url)


# The survey link's own route (s/<code>/) stays last in advocacy.urls.
urlpatterns = [
    path("s/", survey_page, name="advocacy_survey"),
    path("s/thanks/", thanks, name="advocacy_survey_thanks"),
    path("r/<str:code>/<int:site_id>/", review_click, name="advocacy_review_click"),
]
link_urlpatterns = [path("s/<str:code>/", survey_link_view, name="advocacy_survey_link")]
