from django.contrib import admin

from training.models import Dataset, DatasetImage, IngestJob


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_benchmark", "created"]
    list_filter = ["kind", "is_benchmark"]


@admin.register(DatasetImage)
class DatasetImageAdmin(admin.ModelAdmin):
    list_display = ["source_id", "dataset", "source", "status", "rejection_reason", "trainable", "licence"]
    list_filter = ["dataset", "source", "status", "rejection_reason", "trainable"]
    search_fields = ["source_id", "checksum"]


@admin.register(IngestJob)
class IngestJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "source", "dataset", "status", "kept", "rejected", "created"]
    list_filter = ["source", "status"]
    readonly_fields = ["log", "cursor"]
