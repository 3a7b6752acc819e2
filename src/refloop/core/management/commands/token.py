"""`refloop token create USERNAME` / `refloop token revoke PREFIX`: API bearer tokens."""

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
        revoke = actions.add_parser(
            "revoke", help="Revoke a token, named by its first 8 characters or in full."
        )
        revoke.add_argument("prefix")

    def handle(self, *, action: str, **options):
        with context.using(context.RequestContext(channel="cli")):
            if action == "create":
                self.create(options["username"])
            else:
                self.revoke(options["prefix"])

    @transaction.atomic
    def create(self, username: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}; check the spelling.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is deactivated; activate the user first.")
        token, secret = ApiToken.issue(user)
        audit.record(
            "api_token.created",
            audit.Touch("api_token", token.pk),
            actor=None,
            detail={"user": user.get_username(), "prefix": token.prefix},
        )
        self.stdout.write(secret)
        self.stderr.write(
            f"API token {token.prefix}… for {user.get_username()}. It is shown only now; "
            "send it as 'Authorization: Bearer <token>'."
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
