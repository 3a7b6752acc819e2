"""Every workspace page; each feature module owns its own patterns."""

from refloop.workspace import (
    audit_log,
    detail,
    duplicates,
    intake,
    outbound,
    password_reset,
    settings_pages,
    shell,
    worklist,
)
from refloop.workspace.mfa import views as mfa

urlpatterns = [
    *shell.urlpatterns,
    *mfa.urlpatterns,
    *password_reset.urlpatterns,
    *worklist.urlpatterns,
    *detail.urlpatterns,
    *duplicates.urlpatterns,
    *intake.urlpatterns,
    *outbound.urlpatterns,
    *audit_log.urlpatterns,
    *settings_pages.urlpatterns,
]
