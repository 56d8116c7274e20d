from django.contrib import admin

from .cleanup import delete_photos
from .models import Photo, Restoration


class RestorationInline(admin.StackedInline):
    model = Restoration
    extra = 0
    readonly_fields = [
        "status", "progress", "error", "attempts", "choice", "queue", "submitted_from", "expected_seconds",
        "enqueued_at", "model_version", "model_name", "method", "verdict", "verdict_reason", "decision", "precision",
        "kernel_size", "bytes_stored", "started_at", "finished_at",
    ]  # fmt: skip
    fields = readonly_fields
    # A result goes with its files through the photo's page or the API (gallery.results), or with the photo.
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["original_name", "owner", "width", "height", "created"]
    list_filter = ["restoration__status", "restoration__queue", "restoration__choice", "restoration__verdict"]
    search_fields = ["original_name", "owner__username"]
    # File fields stay out: stored files have no public URL to link to.
    fields = readonly_fields = ["id", "owner", "original_name", "width", "height", "mode", "bytes_stored", "notes", "created"]
    inlines = [RestorationInline]

    # Files go from storage at once, as when the owner deletes the photo.
    def delete_model(self, request, obj: Photo) -> None:
        delete_photos([obj])

    def delete_queryset(self, request, queryset) -> None:
        delete_photos(queryset)
