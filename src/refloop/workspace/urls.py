"""Every workspace page; each feature module owns its own patterns."""

from refloop.workspace import (
    audit_log,
    detail,
    duplicates,
    intake,
    outbound,
    password_reset,
    shell,
    worklist,
)

urlpatterns = [
    *shell.urlpatterns,
    *password_reset.urlpatterns,
    *worklist.urlpatterns,
    *detail.urlpatterns,
    *duplicates.urlpatterns,
    *intake.urlpatterns,
    *outbound.urlpatterns,
    *audit_log.urlpatterns,
]
