from django.contrib import admin

from dispatch.models import (
    BacklogAlert,
    CallCategory,
    CallEvent,
    Escalation,
    ServiceCall,
    TurnedAwayCall,
)


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "kind", "actor", "payload")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServiceCall)
class ServiceCallAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "summary",
        "customer",
        "priority",
        "status",
        "technician",
        "position",
        "scheduled_day",
        "deadline",
        "eta",
        "risk",
        "reschedule_count",
    )
    list_filter = ("status", "priority", "risk", "scheduled_day", "technician__team")
    search_fields = ("summary", "customer__name", "site__address")
    list_select_related = ("customer", "technician")
    raw_id_fields = ("customer", "site", "technician", "booked_by")
    filter_horizontal = ("skills",)
    readonly_fields = (
        "eta",
        "planned_start",
        "planned_finish",
        "slack_minutes",
        "risk",
        "overtime",
        "eta_computed_at",
        "version",
        "tracking_token",
        "created_at",
        "updated_at",
    )
    date_hierarchy = "scheduled_day"
    inlines = [CallEventInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # calls are cancelled, never deleted


@admin.register(CallEvent)
class CallEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "call", "kind", "actor")
    list_filter = ("kind",)
    search_fields = ("call__summary", "call__id")
    raw_id_fields = ("call", "actor")
    readonly_fields = ("call", "actor", "kind", "payload", "created_at", "prev_hash", "hash")

    def has_add_permission(self, request) -> bool:
        return False  # events are written by the services, chained (dispatch/services/events)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the audit log is append-only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = (
        "call",
        "reason",
        "status",
        "strategy",
        "raised_by",
        "created_at",
        "resolved_by",
    )
    list_filter = ("status", "reason", "strategy")
    search_fields = ("call__summary", "note", "resolution")
    raw_id_fields = ("call", "raised_by", "resolved_by")


@admin.register(CallCategory)
class CallCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "default_duration_minutes", "active")
    list_filter = ("active",)
    search_fields = ("name", "code")
    filter_horizontal = ("skills",)


class RecordOnlyAdmin(admin.ModelAdmin):
    """Records written by the services: readable here, never edited or deleted."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TurnedAwayCall)
class TurnedAwayCallAdmin(RecordOnlyAdmin):
    list_display = ("created_at", "reason", "customer", "caller_name", "priority", "team")
    list_filter = ("reason", "priority", "team")
    search_fields = ("caller_name", "customer__name", "summary", "note")


@admin.register(BacklogAlert)
class BacklogAlertAdmin(RecordOnlyAdmin):
    list_display = ("team", "day", "raised_at", "cleared_at", "reason")
    list_filter = ("team", "day")
