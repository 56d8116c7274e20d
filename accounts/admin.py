from django.contrib import admin

from .models import DeviceToken


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin):
    """Devices can be revoked (deleted) here; tokens are only ever issued by signing in."""

    list_display = ["device_name", "user", "created", "expiry"]
    search_fields = ["device_name", "user__username"]
    fields = ["device_name", "user", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False
