"""Reading the security headers a response carries, for the tests of every page."""

import re


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [values]}."""
    header = response.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def nonce(response) -> str | None:
    """The nonce the policy allows scripts with, if the page used one."""
    for value in policy(response).get("script-src", []):
        if value.startswith("'nonce-"):
            return value[len("'nonce-") : -1]
    return None


INLINE = re.compile(rb"<(script|style)\b([^>]*)>", re.IGNORECASE)


def inline_elements_without_the_nonce(response) -> list[str]:
    """Inline <script> and <style> elements of an HTML page that the policy would refuse:
    neither loaded from a file nor a JSON data block, and without the header's nonce."""
    allowed = nonce(response)
    refused = []
    for match in INLINE.finditer(response.content):
        attributes = match.group(2).decode()
        if "src=" in attributes or 'type="application/json"' in attributes:
            continue
        if allowed is None or f'nonce="{allowed}"' not in attributes:
            refused.append(match.group(0).decode())
    return refused
