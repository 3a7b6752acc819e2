"""Reads through the Django admin go into the audit log like every other read: each
object a list shows, and the object of a change, history or delete page."""

from refloop.core import audit


class AdminReadAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_template_response(self, request, response):
        match = request.resolver_match
        # Every admin site's URLs share the application namespace "admin", whatever the
        # site's own name, so a site that wraps the default one is audited too.
        if match is None or match.app_name != "admin" or response.status_code != 200:
            return response
        data = response.context_data or {}
        if "cl" in data:
            objects, opts = list(data["cl"].result_list), data["cl"].opts
        elif (shown := data.get("original") or data.get("object")) is not None:
            objects, opts = [shown], shown._meta
        else:
            return response
        if objects:
            audit.record_many(
                "admin.read",
                [audit.Touch(opts.label_lower, obj.pk) for obj in objects],
                actor=request.user,
                detail={"view": match.url_name},
            )
        return response
