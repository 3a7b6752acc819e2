"""`refloop token create USERNAME [--days N]` / `refloop token revoke PREFIX` /
`refloop token list`: API bearer tokens."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from refloop.core import audit, context
from refloop.core.models import ApiToken, User


class Command(BaseCommand):
    help = "Create or revoke API tokens. A new token is printed once; only its hash is kept."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="Print a new API token for USERNAME.")
        create.add_argument("username")
        create.add_argument(
            "--days",
            type=int,
            help="How many days the token lasts (default: REFLOOP_API_TOKEN_DAYS, 90).",
        )
        actions.add_parser(
            "list", help="Active tokens: owner, prefix, expiry and when each was last used."
        )
        revoke = actions.add_parser(
            "revoke", help="Revoke a token, named by its first 8 characters or in full."
        )
        revoke.add_argument("prefix")

    def handle(self, *, action: str, **options):
        with context.using(context.RequestContext(channel="cli")):
            if action == "create":
                self.create(options["username"], days=options["days"])
            elif action == "list":
                self.list_tokens()
            else:
                self.revoke(options["prefix"])

    @transaction.atomic
    def create(self, username: str, *, days: int | None) -> None:
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more.")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}; check the spelling.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is deactivated; activate the user first.")
        token, secret = ApiToken.issue(user, days=days)
        audit.record(
            "api_token.created",
            audit.Touch("api_token", token.pk),
            actor=None,
            detail={
                "user": user.get_username(),
                "prefix": token.prefix,
                "expires_at": token.expires_at.isoformat(),
            },
        )
        self.stdout.write(secret)
        self.stderr.write(
            f"API token {token.prefix}… for {user.get_username()}, good until "
            f"{_when(token.expires_at)}. It is shown only now; "
            "send it as 'Authorization: Bearer <token>'."
        )

    def list_tokens(self) -> None:
        now = timezone.now()
        active = (
            ApiToken.objects.select_related("user")
            .filter(revoked_at__isnull=True)
            .order_by("user__username", "created_at")
        )
        for token in active:
            state = "expired" if token.has_expired(now) else "expires"
            last_used = _when(token.last_used_at) if token.last_used_at else "never"
            self.stdout.write(
                f"{token.prefix}…  {token.user.get_username()}  {state} "
                f"{_when(token.expires_at)}  last used {last_used}"
            )

    @transaction.atomic
    def revoke(self, prefix: str) -> None:
        active = ApiToken.objects.select_related("user").filter(revoked_at__isnull=True)
        if len(prefix) > 8:
            matches = list(active.filter(digest=ApiToken.digest_of(prefix)))
        else:
            matches = list(active.filter(prefix=prefix))
        if not matches:
            raise CommandError(f"No active token starts with {prefix[:8]!r}.")
        if len(matches) > 1:
            raise CommandError(
                f"{len(matches)} active tokens start with {prefix!r}; give the whole token."
            )
        token = matches[0]
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            "api_token.revoked",
            audit.Touch("api_token", token.pk),
            actor=None,
            detail={"user": token.user.get_username(), "prefix": token.prefix},
        )
        self.stdout.write(f"Revoked token {token.prefix}… of {token.user.get_username()}.")


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
