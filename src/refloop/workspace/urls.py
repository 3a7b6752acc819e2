"""Every workspace page; each feature module owns its own patterns."""

from refloop.workspace import audit_log, detail, duplicates, intake, outbound, shell, worklist

urlpatterns = [
    *shell.urlpatterns,
    *worklist.urlpatterns,
    *detail.urlpatterns,
    *duplicates.urlpatterns,
    *intake.urlpatterns,
    *outbound.urlpatterns,
    *audit_log.urlpatterns,
]
