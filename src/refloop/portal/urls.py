"""Pages of the portal app: the referring practices' portal under /portal/, and the staff's
side of it (invitations, messages on a referral) inside the workspace."""

from refloop.portal import invites, referrals, staff, submit

urlpatterns = [
    *referrals.urlpatterns,
    *submit.urlpatterns,
    *invites.urlpatterns,
    *staff.urlpatterns,
]
