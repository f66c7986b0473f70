from django.contrib import admin

from customers.models import Customer, CustomerMessage, Site


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "contract", "phone", "email", "created_at")
    list_filter = ("contract",)
    search_fields = ("name", "phone", "email", "sites__address")
    inlines = [SiteInline]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("address", "customer", "label", "lat", "lng")
    search_fields = ("address", "customer__name", "label")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)


@admin.register(CustomerMessage)
class CustomerMessageAdmin(admin.ModelAdmin):
    """Read-only: messages are written by the sweep, and their history is the audit trail."""

    list_display = ("created_at", "call", "kind", "sequence", "channel", "status", "recipient")
    list_filter = ("kind", "channel", "status")
    search_fields = ("recipient", "dedupe_key", "call__id")
    list_select_related = ("call",)
    raw_id_fields = ("call",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
