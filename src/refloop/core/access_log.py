"""The HTTP access log `refloop serve` writes: one line per request, safe to keep.

A gunicorn logger class, so every response is logged, including those Django never
built. The path goes through refloop.core.logging.redact_path (no query string, link
tokens hidden, nothing typed after a known prefix), and the client is the address
refloop.core.addresses resolves (the client behind a trusted proxy, not the proxy).
"""

from gunicorn.glogging import Logger

from refloop.core.addresses import client_address_from
from refloop.core.logging import redact_path


class AccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            line = self.line(resp, environ, request_time)
        except Exception as exc:
            # Only the type: a message could quote the path this line exists to hide.
            self.error("An access log line could not be written (%s).", type(exc).__name__)
            return
        self.access_log.info("%s", line)

    def line(self, resp, environ, request_time) -> str:
        # WSGI hands the path over as latin-1 text; Django reads it as UTF-8 bytes.
        path = environ.get("PATH_INFO", "").encode("latin-1", "replace").decode("utf-8", "replace")
        status = str(resp.status).split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        client = client_address_from(environ) or "-"
        method = environ.get("REQUEST_METHOD", "-")
        milliseconds = round(request_time.total_seconds() * 1000)
        return (
            f'{client} {self.now()} "{method} {redact_path(path)}" {status} '
            f"{sent if sent is not None else '-'} {milliseconds}ms"
        )
