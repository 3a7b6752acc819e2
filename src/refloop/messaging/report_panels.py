"""(being written)"""


def after_visit_context(request, referral, *, actions: bool):
    return None
