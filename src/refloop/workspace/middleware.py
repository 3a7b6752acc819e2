"""Turns a domain error that escaped a workspace view into a page that says what happened.

Views handle the errors they can attach to a form field themselves; this is the
backstop, so a refused move or a missing referral never shows a stack trace.
The API has its own handlers (refloop.api).
"""

from django.shortcuts import render

from refloop.core.errors import Conflict, DomainError, NotAllowed, NotFound

_TITLES = {
    NotFound: "Not found",
    NotAllowed: "Not allowed",
    Conflict: "This changed meanwhile",
}


class DomainErrorPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/") or not isinstance(exception, DomainError):
            return None
        title = next((t for kind, t in _TITLES.items() if isinstance(exception, kind)), None)
        context = {"title": title or "Please check your input", "message": str(exception)}
        if isinstance(exception, NotFound):
            # The same page whether the thing is missing or hidden from this user.
            context["message"] = "There is nothing here, or your role does not include it."
        return render(request, "workspace/error.html", context, status=exception.status)
