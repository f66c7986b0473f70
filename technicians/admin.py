from django.contrib import admin

from technicians.models import Skill, Team, Technician


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "region")
    search_fields = ("name", "region")
    filter_horizontal = ("staff",)


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Technician)
class TechnicianAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "status", "shift_start", "shift_end", "last_seen_at")
    list_filter = ("team", "status", "skills")
    search_fields = ("name", "user__username")
    list_select_related = ("team",)
    filter_horizontal = ("skills",)
    raw_id_fields = ("user",)
