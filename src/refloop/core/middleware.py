"""Sets the request context (client address, channel) that the audit log records."""

from refloop.core import context


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = "api" if request.path.startswith("/api/") else "web"
        # REMOTE_ADDR is the peer; a TLS proxy in front is trusted only when configured.
        ip = request.META.get("REMOTE_ADDR")
        with context.using(context.RequestContext(ip_address=ip, channel=channel)):
            return self.get_response(request)
