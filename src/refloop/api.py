"""The REST API under /api/v1/ (django-ninja): token auth, one router per domain.

Errors leave in one shape, {"detail", "field"} (and "errors" when there are several):
domain errors carry their own sentence; validation errors name the field and never echo
the submitted value. Every operation's possible errors are declared in the OpenAPI
document from its shape (declare_errors), once for all of them.
"""

import functools
import re
from datetime import timedelta

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from refloop.core import throttle
from refloop.core.errors import DomainError, InvalidInput
from refloop.core.models import ApiToken, User
from refloop.core.nul import NO_NUL_PATTERN
from refloop.core.schemas import ERROR_DESCRIPTIONS, ERROR_SCHEMAS, PATTERN_WORDS
from refloop.network.api import router as directory_router
from refloop.referrals.api import router as referrals_router

# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenExpired(AuthenticationError):
    def __init__(self, token: ApiToken):
        super().__init__(
            message=f"This API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; "
            "ask an administrator for a new one."
        )


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` with an ApiToken that is not revoked, of an active user."""

    def __call__(self, request: HttpRequest) -> User | None:
        # ninja's own parsing logs an unexpected header in DEBUG; a credential never is.
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token:
            return None
        throttle.check(request)  # an address guessing tokens is refused (429)
        try:  # the digest is unique: no ORDER BY to compile
            row = ApiToken.objects.select_related("user").get(
                digest=ApiToken.digest_of(token), revoked_at__isnull=True
            )
        except ApiToken.DoesNotExist:
            row = None
        if row is None or not row.user.is_active:
            throttle.failed("auth.token_failed")
            return None
        now = timezone.now()
        if row.has_expired(now):
            raise TokenExpired(row)
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


class RefloopAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def _get_urls(self):
        for bound_router in self._get_bound_routers():
            for path_view in bound_router.path_operations.values():
                for operation in path_view.operations:
                    refuse_unknown_query(operation, self)
        return super()._get_urls()

    @functools.cached_property
    def query_parameters(self) -> dict[str, frozenset[str]]:
        """Each operation's query parameters, as its document names them (by operationId)."""
        return {
            operation["operationId"]: frozenset(
                p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
            )
            for operations in self.get_openapi_schema()["paths"].values()
            for operation in operations.values()
        }

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
        for operations in schema["paths"].values():
            for operation in operations.values():
                declare_errors(operation)
        forbid_nul(schema)
        return schema


# The shape of this API's own parameter names: only such a name is echoed in an error (a
# capitalised word or anything longer may be a person's name a client put in a URL).
PARAMETER_NAME = re.compile(r"[a-z][a-z0-9_.\-]{0,39}")


def refuse_unknown_query(operation, api: RefloopAPI) -> None:
    """A query parameter the operation's document does not name is refused (422) rather
    than ignored: a misspelt filter (`?stat=declined`) would otherwise answer with every
    row, as if it had been applied. The check runs after authentication and the declared
    parameters' own validation, before the operation does anything."""
    view = operation.view_func
    if getattr(view, "refuses_unknown_query", False):
        return

    @functools.wraps(view)
    def checked(request: HttpRequest, *args, **kwargs):
        accepted = api.query_parameters.get(view.__name__, frozenset())
        unknown = sorted(set(request.GET) - accepted)
        if unknown:
            # A name is echoed only if it looks like a parameter's: junk may carry anything.
            name = unknown[0] if PARAMETER_NAME.fullmatch(unknown[0]) else None
            takes = (
                f"the parameters are {', '.join(sorted(accepted))}"
                if accepted
                else "this operation takes none"
            )
            raise InvalidInput(
                f"Unknown parameter {name or '(not shown)'}; {takes}.",
                field=name,
            )
        return view(request, *args, **kwargs)

    checked.refuses_unknown_query = True  # type: ignore[attr-defined]
    operation.view_func = checked


def forbid_nul(node) -> None:
    """Say of every free-text string in the document that it holds no NUL character, as
    refloop.core.nul enforces for every request. Strings with a pattern of their own
    (NON_BLANK, phone, NPI...), a format or a fixed set of values already exclude it."""
    if isinstance(node, list):
        for item in node:
            forbid_nul(item)
    elif isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(node):
            node["pattern"] = NO_NUL_PATTERN
        for value in node.values():
            forbid_nul(value)


def declare_errors(operation: dict) -> None:
    """Declare, in the one error shape, every error the operation can answer.

    Most follow from the operation's shape, so they are declared here once rather than by
    each endpoint: a token (401, 403 for a role without the capability, 429 after failed
    tokens), a path id (404), an invalid path id, query parameter or body, or a query
    parameter the operation does not take (422), a body (400 when it cannot be read, 413
    when too large). An endpoint declares only the
    errors its own logic adds (409, 415, 503) in its `response=`.
    """
    responses = operation.setdefault("responses", {})
    locations = {parameter["in"] for parameter in operation.get("parameters", [])}
    codes = {422}  # every operation refuses a query parameter it does not take
    if operation.get("security"):
        codes |= {401, 403, 429}
    if "path" in locations:
        codes.add(404)
    if "requestBody" in operation:
        codes |= {400, 413}
    codes |= {int(code) for code in responses if int(code) >= 400}
    for code in sorted(codes):
        responses[str(code)] = error_response(code)
    operation["responses"] = {
        str(code): response for code, response in sorted(responses.items(), key=lambda r: int(r[0]))
    }


def error_response(code: int) -> dict:
    response: dict = {
        "description": ERROR_DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
    if code in ERROR_HEADERS:
        response["headers"] = ERROR_HEADERS[code]
    return response


ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": 'Bearer realm="refloop"',
            "schema": {"type": "string"},
            "required": True,
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
            "required": True,
        }
    },
}

api = RefloopAPI(
    title="refloop API",
    version="1",
    urls_namespace="api",
    auth=BearerToken(),
    description=(
        "Referrals, their lifecycle, and the referral partner directory. Authenticate with "
        '`Authorization: Bearer <token>`. Every error answers `{"detail", "field"}`; a request '
        "with several problems (422) also lists each in `errors`. The schemas state the "
        "input rules (required, not blank, lengths, patterns, choices); those no schema can "
        "state (an id must name a row that exists, a field needed by another's value, a time "
        "compared with now) are in the descriptions, and answer 422 naming the field."
    ),
)


def _error(
    request: HttpRequest, status: int, detail: str, field: str | None = None
) -> HttpResponse:
    response = api.create_response(request, {"detail": detail, "field": field}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="refloop"'
    return response


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.message, exc.field)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request, 401, "Send a valid API token in the header: Authorization: Bearer <token>."
    )


@api.exception_handler(throttle.Throttled)
def throttled(request: HttpRequest, exc: throttle.Throttled) -> HttpResponse:
    response = _error(request, 429, exc.refusal.message)
    response["Retry-After"] = str(exc.refusal.retry_after_seconds)
    return response


@api.exception_handler(TokenExpired)
def token_expired(request: HttpRequest, exc: TokenExpired) -> HttpResponse:
    return _error(request, 401, str(exc))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found.")


@api.exception_handler(RequestDataTooBig)
def request_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "The request body is too large.")


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Every problem at once, each in our own words: pydantic's message and context may quote
    # the submitted value, so only the schema's own limits are taken from them.
    problems = [
        (validation_message(field, error), field)
        for error in exc.errors
        if (field := field_name(tuple(error.get("loc", ())))) is not None
    ]
    if not problems:
        first = exc.errors[0] if exc.errors else {}
        detail = (
            "A JSON request body is required."
            if first.get("type") == "missing"
            else "The request body must be a JSON object with the documented fields."
        )
        return _error(request, 422, detail)
    unique = list(dict.fromkeys(problems))
    detail, field = unique[0]
    if len(unique) == 1:
        return _error(request, 422, detail, field)
    body = {
        "detail": f"{detail} ({len(unique) - 1} more: see errors)",
        "field": field,
        "errors": [{"detail": d, "field": f} for d, f in unique],
    }
    return api.create_response(request, body, status=422)


def validation_message(field: str, error: dict) -> str:
    """One sentence naming the field and what it accepts; never the value that was sent."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_WORDS:
        return f"{field} {PATTERN_WORDS[ctx['pattern']]}."
    if kind in SENTENCES:
        return f"{field} {SENTENCES[kind].format(**ctx)}."
    for prefix, expected in EXPECTED_KINDS:
        if kind.startswith(prefix):
            return f"{field} must be {expected}."
    return f"{field} is not valid; see the API documentation for what it accepts."


# pydantic's error types and what is wrong, in words; `{name}` is filled from the error's ctx.
SENTENCES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request; see the API documentation",
    "enum": "must be one of {expected}",
    "literal_error": "must be one of {expected}",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "string_too_long": "must be at most {max_length} characters",
    "string_too_short": "must be at least {min_length} characters",
    "string_pattern_mismatch": "is not in the form the API documentation gives",
    "decimal_max_digits": "must have at most {max_digits} digits",
    "decimal_max_places": "must have at most {decimal_places} decimal places",
    "too_long": "has too many or too few items",
    "too_short": "has too many or too few items",
}
# pydantic's error types, by prefix, and what the field accepts in words.
EXPECTED_KINDS = (
    ("int_", "a whole number"),
    ("float_", "a number"),
    ("decimal_", "a decimal number"),
    ("bool_", "true or false"),
    ("datetime_", "a date and time in ISO 8601, e.g. 2026-03-02T15:00"),
    ("date_", "a date as YYYY-MM-DD"),
    ("time_", "a time as HH:MM"),
    ("string_", "text"),
    ("list_", "a list"),
    ("dict_", "an object"),
    ("model_", "an object"),
    ("url_", "a URL"),
    ("uuid_", "a UUID"),
)


def field_name(loc: tuple) -> str | None:
    """('body', 'payload', 'patient', 'date_of_birth') -> 'patient.date_of_birth';
    ('query', 'filters', 'state', 0) -> 'state', the query parameter as the client sent it."""
    if not loc:
        return None
    source, *path = loc
    if source == "query":
        # Query parameters are flat: the name is the last part, after the view's schema
        # parameter (filters) and before a repeated parameter's position (state.0).
        names = [str(part) for part in path if not isinstance(part, int)]
        return names[-1] if names else None
    if source == "body" and path:
        path = path[1:]  # the view's parameter name, not part of the document
    return ".".join(str(part) for part in path) or None


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Django answers 500 and logs through the redacting filter; never a traceback in the
    # body, even with DEBUG on, because exception messages may quote stored patient data.
    raise exc


api.add_router("/", referrals_router)
api.add_router("/", directory_router)
api.add_router("/", "refloop.intake.api.router")
api.add_router("/", "refloop.messaging.api.router")
api.add_router("/", "refloop.analytics.api.router")
api.add_router("/", "refloop.outreach.api.router")
api.add_router("/", "refloop.advocacy.numbers_api.router")
api.add_router("/", "refloop.advocacy.api.router")
