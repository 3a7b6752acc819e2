"""The client's address: the one answer the audit log, the throttle, the rate limits and
the access log all use.

REMOTE_ADDR is the peer that opened the connection. Behind a reverse proxy that peer is
the proxy, so X-Forwarded-For is read, but only when the peer is one of
settings.TRUSTED_PROXIES: anyone else could write whatever they like into that header.
"""

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv6Address, ip_address

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    return client_address_from(request.META)


def client_address_from(meta: Mapping[str, str]) -> str | None:
    """The client's address from a WSGI environ (or request.META).

    With a trusted peer, X-Forwarded-For is read from the right: each proxy appends the
    address it received from, so the right-most address that is not itself a trusted
    proxy is the client. Entries left of it were written by the client and prove nothing.
    """
    peer = _parse(meta.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    trusted = settings.TRUSTED_PROXIES
    if not _is_trusted(peer, trusted):
        return str(peer)
    client = peer
    for entry in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        forwarded = _parse(entry)
        if forwarded is None:
            break  # garbage after the last trusted hop: the hop before it is all we know
        client = forwarded
        if not _is_trusted(forwarded, trusted):
            break
    return str(client)


def _is_trusted(address: IPv4Address | IPv6Address, trusted: Iterable) -> bool:
    return any(address.version == n.version and address in n for n in trusted)


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
