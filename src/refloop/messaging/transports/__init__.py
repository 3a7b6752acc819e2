"""One small module per outside channel, all behind `base.Transport`.

Settings choose the implementation per channel (`MESSAGING_TRANSPORTS`), so the demo
writes SMS and faxes to files while production talks to a provider.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from refloop.messaging.transports.base import Transport


def transport_for(channel: str) -> Transport:
    return import_string(settings.MESSAGING_TRANSPORTS[channel])()
