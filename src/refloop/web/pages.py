"""Pages composed above the feature apps that a feature's view must show again: the referral's
detail page, re-rendered with a posted panel's errors. Each is named here by the dotted path of
its context builder, resolved at run time, so the feature never imports the app composing it."""

from django.http import HttpRequest
from django.utils.module_loading import import_string

# page -> (template, dotted path of `context(request, *args) -> dict`)
PAGES: dict[str, tuple[str, str]] = {
    # args: the referral, the organization
    "referral_detail": ("workspace/detail/page.html", "refloop.workspace.detail.page_context"),
}


def page(name: str, request: HttpRequest, *args) -> tuple[str, dict]:
    """The template and context of page `name`, for `request`."""
    template, context_path = PAGES[name]
    return template, import_string(context_path)(request, *args)
