from django import forms
from django.contrib import admin

from refloop.core import reauth
from refloop.core.roles import Role
from refloop.practice.models import Department, Location, Organization


class OrganizationForm(forms.ModelForm):
    mfa_required_roles = forms.MultipleChoiceField(
        choices=[(r.value, r.value) for r in Role if r != Role.ADMIN],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Roles that must use a second factor",
        help_text="Admins always must. Users of a role ticked here are asked to set one up "
        "at their next sign-in and cannot use refloop until they have.",
    )

    class Meta:
        model = Organization
        fields = ["mfa_required_roles"]  # the admin adds the rest


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationForm
    list_display = ["name", "time_zone", "sla_stat_hours", "sla_urgent_hours", "sla_routine_hours"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return reauth.guard_form(form, request, {"mfa_required_roles"})


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "phone"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "point_of_contact"]
    filter_horizontal = ["locations"]
