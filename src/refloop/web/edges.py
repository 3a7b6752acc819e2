"""The pages at the edges of the site: not found, not allowed, the server's own failure, a
refused form (CSRF), and the favicon browsers ask for.

Browser routes get a page in the shell's look; the API's routes get its JSON error shape
(`{detail, field}`), never an HTML page. Nothing of the request is echoed back: a path or a
query string can hold a link token, and an exception's text can hold patient data.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from refloop.core.nul import first_nul
from refloop.core.roles import Capability, can
from refloop.core.sessions import passive

# Paths answered by machines, which read JSON.
API_PREFIXES = ("/api/", "/fhir/")
# The frame a portal user's error page sits in: their own header, never the workspace's.
# (Named by template, looked up at run time; the web kit imports nothing of the portal.)
PORTAL_BASE = "portal/base.html"
BASE = "web/base.html"

NOT_FOUND = "There is nothing here, or your role does not include it."
NOT_ALLOWED = "Your role does not include this page."
SERVER_ERROR = "Something went wrong on our side. It has been logged; please try again in a moment."
CSRF_REFUSED = (
    "The form could not be sent: the page was open too long, or your browser did not send "
    "the site's cookie. Reload the page and try again. If it happens again, allow cookies "
    "for this site."
)

NUL_REFUSED = (
    "It is an invisible character some programs add when text is pasted; remove it (retype "
    "the text) and send again."
)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def _api_error(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "field": None}, status=status)


def _base_for(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    return PORTAL_BASE if user is not None and can(user, Capability.USE_PORTAL) else BASE


def _page(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    context = {"title": title, "message": message, "base": _base_for(request)}
    return render(request, "web/edge.html", context, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: the same answer whether the thing is missing or hidden from this user."""
    if is_api(request):
        return _api_error("Not found.", 404)
    return _page(request, "Not found", NOT_FOUND, 404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403 (a PermissionDenied that escaped a view)."""
    if is_api(request):
        return _api_error("Not allowed.", 403)
    return _page(request, "Not allowed", NOT_ALLOWED, 403)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. Rendered without the request: no context processors, so no database query
    that could fail again, no user, no navigation; and no exception text."""
    if is_api(request):
        return _api_error("Something went wrong on our side.", 500)
    body = loader.get_template("web/edge.html").render(
        {"base": "web/base.html", "title": "Something went wrong", "message": SERVER_ERROR}
    )
    return HttpResponse(body, status=500)


class RefuseNulMiddleware:
    """Refuses text holding a NUL character before any view (refloop.core.nul): the API
    with its 422 naming the input, a page with a 400 in the shell's look. Neither repeats
    the value."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found, field = first_nul(request)
        if not found:
            return self.get_response(request)
        detail = f"{field or 'The request'} must not contain a NUL character (U+0000)."
        if is_api(request):
            return JsonResponse({"detail": detail, "field": field}, status=422)
        return _page(request, "Please check what you typed", f"{detail} {NUL_REFUSED}", 400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: says what to do; Django's `reason` stays in the log, not the page."""
    if is_api(request):
        return _api_error("The request was refused (CSRF). Send an API token instead.", 403)
    return _page(request, "Please reload the page", CSRF_REFUSED, 403)


@passive
@require_safe
@cache_control(max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for by themselves: the shell's icon (a static file).
    Not activity (the session's idle clock ignores it), open at the second-factor step."""
    return HttpResponseRedirect(static("web/favicon.svg"))
