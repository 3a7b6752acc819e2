"""The survey link in a message (/s/<code>/) hands its code to the browser in a short-lived
cookie and redirects to /s/, as the appointment links do (messaging.patient_views): the code
never stays in an address bar, a browser's history or a referrer. The pages under /s/ (the
survey, its thank-you, becoming an advocate, offering a testimonial) find their survey here.
"""

from django.http import HttpResponseRedirect
from django.urls import reverse

from refloop.advocacy.models import Survey
from refloop.advocacy.surveys import survey_by_code

COOKIE = "survey_link"
COOKIE_PATH = "/s/"
COOKIE_SECONDS = 60 * 60


def see_other(name: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(reverse(name))
    response.status_code = 303
    return response


def hand_over(request, code: str, *, to: str) -> HttpResponseRedirect:
    """Keep `code` in the cookie and send the browser to the page named `to`."""
    response = see_other(to)
    response.set_cookie(
        COOKIE,
        code,
        max_age=COOKIE_SECONDS,
        path=COOKIE_PATH,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


def survey_from(request) -> Survey | None:
    """The survey whose link this browser followed last, if its cookie is still there."""
    code = request.COOKIES.get(COOKIE, "")
    if not code or len(code) > 40:
        return None
    return survey_by_code(code)


def forget(response):
    response.delete_cookie(COOKIE, path=COOKIE_PATH, samesite="Lax")
    return response
