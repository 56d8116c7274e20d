from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .deletion import delete_account
from .models import DeviceToken


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AccountAdmin(UserAdmin):
    """Django's, but a deleted user's photo and ZIP files go from storage at once, as when
    they delete their own account."""

    def delete_model(self, request, obj) -> None:
        delete_account(obj)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            delete_account(user)


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin):
    """Devices can be revoked (deleted) here; tokens are only ever issued by signing in."""

    list_display = ["device_name", "user", "created", "expiry"]
    search_fields = ["device_name", "user__username"]
    fields = ["device_name", "user", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False
