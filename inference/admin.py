from django.contrib import admin, messages

from inference.models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "architecture", "parameter_count", "is_active", "created"]
    list_filter = ["architecture", "is_active"]
    readonly_fields = ["is_active", "created"]
    actions = ["make_active"]

    @admin.action(description="Make active")
    def make_active(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one model to make active.", messages.ERROR)
            return
        version = queryset.get()
        version.activate()
        self.message_user(request, f"{version} is now the active model.", messages.SUCCESS)
