"""(being written)"""


def outbox_panel_context(referral, user):
    return None
