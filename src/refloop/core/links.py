"""Links that leave the server: every absolute URL refloop hands out starts with BASE_URL.

A magic link in a text, a portal invitation, a password-reset email, the addresses on the
public "how to refer" page and its PDF: the reader follows them from somewhere else (a
phone, a mail client, a printed page), often long after the request that made them, and
the worker makes many with no request at all. So none is built from a request's Host
header; all come from `absolute_url`, which starts them with the one configured address
(env REFLOOP_BASE_URL; the demo sets it from its --host and --port).
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


def absolute_url(path: str) -> str:
    """`path` (as `reverse` gives it, starting with /) on the configured public address."""
    if not path.startswith("/"):
        raise ValueError(f"absolute_url takes a path starting with /, not {path!r}")
    return settings.BASE_URL.rstrip("/") + path


def is_loopback(base_url: str) -> bool:
    """Whether `base_url` names this machine only (127.0.0.0/8, ::1, localhost)."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register(Tags.security, deploy=True)
def base_url_is_public(app_configs, **kwargs) -> list[CheckMessage]:
    if settings.DEBUG or not is_loopback(settings.BASE_URL):
        return []
    return [
        Warning(
            f"REFLOOP_BASE_URL is {settings.BASE_URL}: the links in emails, texts, portal "
            "invitations and password resets point at this machine and open nowhere else.",
            hint="Set REFLOOP_BASE_URL to the address people reach refloop at, e.g. "
            "https://refer.example.org.",
            id="refloop.links.W001",
        )
    ]
