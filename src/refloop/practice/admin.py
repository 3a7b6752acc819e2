from django.contrib import admin

from refloop.practice.models import Department, Location, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "sla_stat_hours", "sla_urgent_hours", "sla_routine_hours"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "phone"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "point_of_contact"]
    filter_horizontal = ["locations"]
