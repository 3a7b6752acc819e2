"""In-app notices for staff: a row in the notification bell, written in refloop's database."""

from refloop.core.models import Notification, User
from refloop.messaging.transports.base import Envelope, PermanentFailure


class InAppTransport:
    channel = "in_app"

    def open(self) -> None:
        pass

    def send(self, envelope: Envelope) -> str:
        from refloop.messaging.models import Message

        message = Message.objects.only("referral_id", "rule", "due_at").get(pk=envelope.message_id)
        user = User.objects.filter(pk=envelope.to, is_active=True).first()
        if user is None:
            raise PermanentFailure("That staff account is no longer active.")
        notice, _ = Notification.objects.get_or_create(
            user=user,
            kind=message.rule,
            referral_id=message.referral_id,
            dedupe_key=envelope.delivery_key,
            defaults={"text": envelope.body[:300], "created_at": message.due_at},
        )
        return str(notice.pk)

    def close(self) -> None:
        pass
