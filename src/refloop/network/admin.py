from django.contrib import admin

from refloop.network.models import Practice, Provider, StaffContact


class ProviderInline(admin.TabularInline):
    model = Provider
    fields = ["npi", "first_name", "last_name", "credentials", "specialty"]
    extra = 0


class StaffInline(admin.TabularInline):
    model = StaffContact
    fields = ["name", "role", "phone", "email", "preferred_channel"]
    extra = 0


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "in_network", "segment"]
    list_filter = ["in_network", "segment"]
    search_fields = ["name", "city"]
    inlines = [ProviderInline, StaffInline]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "npi", "practice", "specialty"]
    search_fields = ["last_name", "npi"]
    autocomplete_fields = ["practice"]
