from django.contrib import admin

from accounts.forms import ThrottledAdminAuthenticationForm
from accounts.models import LockoutRecord, LoginFailure


@admin.register(LockoutRecord)
class LockoutRecordAdmin(admin.ModelAdmin):
    list_display = ["scope", "key", "failures", "address", "locked_at", "until"]
    list_filter = ["scope"]
    search_fields = ["key", "address"]


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["username", "address", "at"]
    search_fields = ["username", "address"]


# The admin's own sign-in form goes through the same lockout gate; this one says why it refuses.
admin.site.login_form = ThrottledAdminAuthenticationForm
