"""Django's admin is the support staff's back office, not the practice's settings.

A practice's admins change the practice, departments, SLA targets, users and messages on
the workspace's Settings pages; the raw tables behind them (task results, API tokens, the
audit log's rows) are for the people who support the installation: superusers only.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


def is_support_staff(user) -> bool:
    """Who may open the back office: an active superuser (is_staff alone is not enough)."""
    return bool(user is not None and user.is_active and user.is_superuser)


class SupportAdminSite(admin.AdminSite):
    site_header = "refloop back office (support staff)"
    site_title = "refloop back office"

    def has_permission(self, request) -> bool:
        return is_support_staff(request.user)


class SupportAdminConfig(AdminConfig):
    """django.contrib.admin, with SupportAdminSite as `admin.site`."""

    default_site = "refloop.core.admin_site.SupportAdminSite"
