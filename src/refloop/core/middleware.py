"""Sets the request context (client address, channel) that the audit log records, and the
request's memo of settings rows (core.context.remembered)."""

from refloop.core import context
from refloop.core.addresses import client_address


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = "api" if request.path.startswith("/api/") else "web"
        # The peer, or what a trusted proxy says the client was (REFLOOP_TRUSTED_PROXIES).
        ip = client_address(request)
        with (
            context.using(context.RequestContext(ip_address=ip, channel=channel)),
            context.remembering(),
        ):
            return self.get_response(request)
