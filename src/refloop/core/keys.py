"""Encryption keys as settings hold them; settings.py imports this, so no models here."""

import base64
import binascii
import hashlib
import os

from django.core.exceptions import ImproperlyConfigured


def generate_key() -> str:
    """A new 256-bit key as settings take it (base64url, 44 characters)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def parse_keys(text: str, *, setting: str) -> list[bytes]:
    """Keys separated by commas or line breaks; each must be 32 bytes in base64url."""
    keys = []
    for number, part in enumerate(text.replace(",", "\n").split(), start=1):
        try:
            key = base64.urlsafe_b64decode(part.encode())
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise ImproperlyConfigured(
                f"{setting}: key {number} is not a 256-bit key in base64url; "
                "`refloop keys generate` prints a good one."
            )
        keys.append(key)
    if not keys:
        raise ImproperlyConfigured(f"{setting} holds no key.")
    return keys


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"refloop key id\0" + key).hexdigest()[:8]
