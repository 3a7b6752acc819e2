"""Finding a NUL character (U+0000) in a request's text, which no view may see.

PostgreSQL can neither store nor compare text holding one, so it would reach the database
as a server error; no name, note, search or filter needs one. Django's form fields already
refuse it; refloop.web.edges.RefuseNulMiddleware covers every query parameter, form field
and JSON value (and key), for the API and the pages alike.
"""

import json
from collections.abc import Iterator

from django.core.exceptions import RequestDataTooBig

NUL = "\x00"
# What the OpenAPI document says of every free-text input (refloop.api adds it).
NO_NUL_PATTERN = r"^[^\x00]*$"


def _json_paths(value, path: tuple = ()) -> Iterator[tuple]:
    """The path of each string (or key) holding a NUL in a JSON value."""
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_paths(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            # A key holding a NUL is named by where it is, never by itself.
            yield from [path] if NUL in key else _json_paths(item, (*path, key))


def first_nul(request) -> tuple[bool, str | None]:
    """(found, the input it is in: a query or form parameter, or a dotted body field)."""
    content_type = request.content_type or ""
    try:
        forms = [request.GET]
        # A multipart form is left to its view: parsing it here would turn an upload too
        # large into an empty form. Django's form fields refuse a NUL themselves, and the
        # API's one multipart field is a choice.
        if content_type == "application/x-www-form-urlencoded":
            forms.append(request.POST)
        body = json.loads(request.body or b"null") if content_type == "application/json" else None
    except (RequestDataTooBig, ValueError, UnicodeDecodeError):
        # Too large or not readable: the view answers that (413 or 400) as it always has.
        return False, None
    for form in forms:
        for name, values in form.lists():
            if NUL in name or any(NUL in value for value in values):
                return True, None if NUL in name else name
    for path in _json_paths(body):
        return True, ".".join(map(str, path)) or None
    return False, None
