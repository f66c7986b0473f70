from django.contrib import admin

from customers.models import Customer, Site


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
