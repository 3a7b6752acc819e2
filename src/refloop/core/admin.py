"""Back-office admin for users, tokens and the audit log: support staff only
(refloop.core.admin_site); a practice's admins use the workspace's Settings pages.

Patients and referrals are deliberately not here: every read of them must go
through the audited selectors, and the admin would bypass them.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from refloop.core import reauth
from refloop.core.models import ApiToken, AuditEntry, User

# Changing any of these changes what a user may do: it needs a fresh confirmation.
SECURITY_FIELDS = {"role", "is_active", "is_staff", "is_superuser", "groups", "user_permissions"}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("refloop", {"fields": ["role", "departments", "partner_practice"]}),
    ]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return reauth.guard_form(form, request, SECURITY_FIELDS) if obj is not None else form


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["digest", "prefix", "user", "created_at", "last_used_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id", "ip_address"]
    list_filter = ["action", "channel"]
    search_fields = ["actor_label", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
