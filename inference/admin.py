import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile

from inference import speed
from inference.models import ModelVersion, ServingChoice


@contextmanager
def on_disk(upload: UploadedFile) -> Iterator[Path]:
    """The upload as a `.keras` file on disk, for a while: Keras loads only such files."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.keras"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        yield path


class ModelVersionAddForm(forms.ModelForm):
    """A model uploaded in the admin passes register_model's checks before anything is stored,
    and is stored under its name as register_model stores it. Its architecture and size are
    read from the file, never typed in."""

    class Meta:
        model = ModelVersion
        fields = ["name", "file", "notes", "metrics", "provenance"]

    def clean(self) -> dict:
        cleaned = super().clean()
        # Imported here: web processes load TensorFlow only when someone uploads a model.
        from inference import registry

        name, upload = cleaned.get("name"), cleaned.get("file")
        if name:
            try:
                registry.check_name(name)
            except ValueError as exc:
                self.add_error("name", str(exc))
        if upload:
            with on_disk(upload) as path:
                try:
                    model, architecture = registry.check_generator(path)
                except ValueError as exc:
                    # The temporary path means nothing to whoever uploaded the file.
                    self.add_error("file", str(exc).replace(str(path), upload.name))
                else:
                    self.instance.architecture = architecture
                    self.instance.parameter_count = model.count_params()
        if name and upload and not self.errors:
            # models/<name>.keras, where register_model puts it: the storages overwrite by name.
            upload.name = registry.stored_name(name)
        return cleaned


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "name", "architecture", "parameter_count", "serves_choices", "retired", "seconds_per_megapixel", "created",
    ]  # fmt: skip
    list_filter = ["architecture", ("retired_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["speed", "retired_at", "created"]
    actions = ["serve_best", "serve_fast", "retire"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("serves")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ModelVersionAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # A stored model keeps the file it was checked with, and the name that its file and its
        # serving history go by; a new one has no figures to show yet.
        return [*self.readonly_fields, "name", "file", "architecture", "parameter_count"] if obj else []

    def get_deleted_objects(self, objs, request):
        """Django counts the choices that protect a model among the objects the user may not
        delete, and then says that instead of what holds: the model serves a choice."""
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        return to_delete, model_count, set() if protected else perms_needed, protected

    @admin.display(description="serves")
    def serves_choices(self, version: ModelVersion) -> str:
        return ", ".join(choice.get_key_display() for choice in version.serves.all()) or "–"

    @admin.display(description="retired", boolean=True)
    def retired(self, version: ModelVersion) -> bool:
        return version.retired_at is not None

    @admin.display(description="s/MP")
    def seconds_per_megapixel(self, version: ModelVersion) -> str:
        measured = speed.seconds_per_megapixel(version)
        return f"{measured[1]:.2f} ({measured[0]})" if measured else "–"

    def _serve(self, request, queryset, choice: str) -> None:
        label = ServingChoice.Key(choice).label
        if queryset.count() != 1:
            self.message_user(request, f'Select exactly one model to serve "{label}".', messages.ERROR)
            return
        version = queryset.get()
        try:
            version.promote(choice)
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f'{version} now serves "{label}".', messages.SUCCESS)

    @admin.action(description="Serve as Best quality")
    def serve_best(self, request, queryset) -> None:
        self._serve(request, queryset, ServingChoice.Key.BEST)

    @admin.action(description="Serve as Fast")
    def serve_fast(self, request, queryset) -> None:
        self._serve(request, queryset, ServingChoice.Key.FAST)

    @admin.action(description="Retire")
    def retire(self, request, queryset) -> None:
        for version in queryset:
            try:
                version.retire()
            except ValueError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"{version} is retired.", messages.SUCCESS)


@admin.register(ServingChoice)
class ServingChoiceAdmin(admin.ModelAdmin):
    """Which model serves each choice: an administrator's setting, which ensure_default_model
    never overrides."""

    list_display = ["key", "model", "updated"]
    fields = ["key", "model", "updated"]
    readonly_fields = ["key", "updated"]

    def has_add_permission(self, request) -> bool:
        # The migration made a row for each choice; only a lost one can be added again.
        return ServingChoice.objects.count() < len(ServingChoice.Key.values)

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return self.readonly_fields if obj else ["updated"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "model":
            kwargs["queryset"] = ModelVersion.objects.filter(retired_at__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
