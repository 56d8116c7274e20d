from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inference import speed
from inference.images import ACCEPTED_TYPES
from inference.models import Choice, Method, ModelVersion, ServingChoice, Verdict

from . import jobs
from .downloads import short_lived_result_url
from .forms import KEEP_LOCATION_HELP
from .media import short_lived_url
from .models import Photo, Restoration
from .names import original_download
from .uploads import choice_refusal, unknown_choice

CHOICE_NAMES = ", ".join(f"`{key}`" for key in Choice.values)
UNKNOWN_CHOICE = unknown_choice("{input}")


class ModelVersionSerializer(serializers.ModelSerializer):
    metrics = serializers.JSONField(help_text="Benchmark figures recorded when the model was registered.")
    seen_in_training = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Benchmarks whose photos the model was trained on."
    )
    licence = serializers.SerializerMethodField()
    notice = serializers.SerializerMethodField()
    seconds_per_megapixel = serializers.SerializerMethodField(
        help_text="Seconds of deblurring per megapixel on this site's workers; before any job ran, its model card's."
    )
    worker_kind = serializers.SerializerMethodField(
        help_text="Where seconds_per_megapixel was measured: cpu or gpu workers (or the model card's hardware)."
    )

    class Meta:
        model = ModelVersion
        fields = [
            "name", "architecture", "parameter_count", "metrics", "notes", "seen_in_training", "licence", "notice",
            "seconds_per_megapixel", "worker_kind", "created",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "description": "The weights' licence."})
    def get_licence(self, version: ModelVersion) -> str | None:
        return version.provenance.get("licence")

    @extend_schema_field({"type": "string", "nullable": True, "description": "The notice the licence asks for."})
    def get_notice(self, version: ModelVersion) -> str | None:
        return version.provenance.get("notice")

    @extend_schema_field({"type": "number", "nullable": True})
    def get_seconds_per_megapixel(self, version: ModelVersion) -> float | None:
        measured = speed.seconds_per_megapixel(version)
        return measured[1] if measured else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_worker_kind(self, version: ModelVersion) -> str | None:
        measured = speed.seconds_per_megapixel(version)
        return measured[0] if measured else None


class ServingChoiceSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=Choice.choices, help_text=f"{CHOICE_NAMES}: what an upload sends as `model`.")
    label = serializers.CharField()
    description = serializers.CharField(help_text="What the choice is for.")
    needs_model = serializers.BooleanField(
        help_text="True for the learned choices (best, fast), which an administrator serves with a model; Auto and "
        "Camera shake run the kernel engine (Auto also uses Best quality's model for some photos)."
    )
    available = serializers.BooleanField(help_text="Whether an upload may choose it now: false while no model serves it.")
    seconds_per_megapixel = serializers.FloatField(
        allow_null=True,
        help_text="About how long the kernel engine takes per megapixel, for auto and shake; for best and fast, see "
        "their model's figure.",
    )
    model = ModelVersionSerializer(
        allow_null=True, help_text="The model serving a learned choice; null while none does, and for auto and shake."
    )


class MetricsSerializer(serializers.ModelSerializer):
    """PSNR (dB) and SSIM against the sharp reference, when one was uploaded, each image
    aligned with the reference on its own first (the best shift within 12 px, in 1/4 px
    steps; a border of up to 16 px left out), as the literature scores camera shake; a
    no-reference blur figure always: 0 sharp to 1 blurred (the blur effect of Crete-Roffet
    et al., on 2x2-averaged luminance), lower is less blurred. Whether the result is sharper
    is the photo's `verdict`."""

    class Meta:
        model = Restoration
        fields = ["psnr_before", "psnr_after", "ssim_before", "ssim_after", "blur_before", "blur_after"]
        read_only_fields = fields


class PhotoUploadSerializer(serializers.Serializer):
    # Plain files: the upload's validation is the site's (gallery.uploads), with its messages.
    image = serializers.FileField(allow_empty_file=True, help_text=f"The blurred photo: {ACCEPTED_TYPES}.")
    reference = serializers.FileField(
        required=False, allow_empty_file=True, help_text="Optional sharp version of the same scene, for PSNR and SSIM."
    )
    strength = serializers.FloatField(
        min_value=0.0, max_value=1.0, default=1.0, help_text="0 keeps the photo as it is, 1 is the full deblurring."
    )
    model = serializers.ChoiceField(
        choices=Choice.choices,
        default=Choice.AUTO,
        error_messages={"invalid_choice": UNKNOWN_CHOICE},
        help_text="How it is deblurred: auto (Auto, the default: decides per photo), best (Best quality), fast (Fast) "
        "or shake (Camera shake: the kernel engine); see /api/v1/models/.",
    )
    keep_location = serializers.BooleanField(default=False, help_text=KEEP_LOCATION_HELP)

    def validate_model(self, choice: str) -> str:
        refusal = choice_refusal(choice, ServingChoice.models_by_key())
        if refusal:
            raise serializers.ValidationError(refusal)
        return choice


class PhotoChangeSerializer(serializers.Serializer):
    strength = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        help_text="The strength the downloads apply: 0 keeps the photo as it is, 1 is the model's full output.",
    )


class RerunSerializer(serializers.Serializer):
    model = serializers.ChoiceField(
        choices=Choice.choices,
        required=False,
        error_messages={"invalid_choice": UNKNOWN_CHOICE},
        help_text="The choice to run with: auto, best, fast or shake; the photo's own choice when left out.",
    )

    def validate_model(self, choice: str) -> str:
        if refusal := jobs.rerun_refusal(choice):
            raise serializers.ValidationError(refusal)
        return choice


def _url_field(help_text: str):
    return extend_schema_field({"type": "string", "format": "uri", "nullable": True, "description": help_text})


class BlankAsNull(serializers.CharField):
    """A text field that is blank until its job is done: null rather than "" then."""

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value: str) -> str | None:
        return value or None


class ResultSerializer(serializers.ModelSerializer):
    """One of a photo's results: each run of its job is kept, and one is its current."""

    current = serializers.SerializerMethodField(help_text="Whether this is the photo's current result, which its downloads, "
        "ZIPs and the photo's own result fields follow.")  # fmt: skip
    model = serializers.ChoiceField(source="choice", choices=Choice.choices, read_only=True, help_text="The choice it ran with.")
    model_name = BlankAsNull(read_only=True, help_text="The network's model, or kernel-engine; null until done.")
    method = BlankAsNull(read_only=True, help_text="kernel, network or none (left as it was); null until done.")
    verdict = BlankAsNull(read_only=True, help_text="sharper, little-change or not-improved; null until done.")
    verdict_reason = BlankAsNull(read_only=True)
    precision = BlankAsNull(read_only=True, help_text="float32 or bfloat16; null when the photo was left as it was.")
    error = BlankAsNull(read_only=True, help_text="Why it failed.")
    metrics = MetricsSerializer(source="*", read_only=True)
    finished = serializers.DateTimeField(source="finished_at", read_only=True, allow_null=True)
    processing_seconds = serializers.FloatField(read_only=True, allow_null=True)
    bytes_stored = serializers.IntegerField(read_only=True, help_text="What its files hold, counted in the quota.")
    full_strength_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()

    class Meta:
        model = Restoration
        fields = [
            "id", "current", "status", "model", "model_name", "method", "precision", "verdict", "verdict_reason", "error",
            "strength", "metrics", "kernel_size", "bytes_stored", "created", "finished", "processing_seconds",
            "full_strength_url", "preview_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_current(self, result: Restoration) -> bool:
        return result.pk == result.photo.restoration_id

    @_url_field("The model's full-strength output (PNG, with its Content Credentials) once it succeeded.")
    def get_full_strength_url(self, result: Restoration) -> str | None:
        return short_lived_url(self.context["request"], result.result)

    @_url_field("The full-strength output as a screen-sized JPEG, at most 1600 px on its long side.")
    def get_preview_url(self, result: Restoration) -> str | None:
        return short_lived_url(self.context["request"], result.result_preview)


class PhotoSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(source="restoration.status", choices=Restoration.Status.choices, read_only=True)
    progress = serializers.FloatField(
        source="restoration.live_progress",
        read_only=True,
        help_text="0 to 1: the share of the job's expected time done, moving on between the worker's updates at the "
        "expected pace.",
    )
    eta_seconds = serializers.FloatField(
        source="restoration.eta_seconds",
        read_only=True,
        allow_null=True,
        help_text="About how long until the result is ready: while queued, the wait and the job's own time; while "
        "running, the time left. Null when the model's speed is not known yet, and once done.",
    )
    wait_seconds = serializers.FloatField(
        source="restoration.wait_seconds",
        read_only=True,
        allow_null=True,
        help_text="While queued: about how long until it starts (the time of the jobs really ahead of it, shared "
        "among its queue's workers).",
    )
    queue_position = serializers.IntegerField(
        source="restoration.queue_position",
        read_only=True,
        allow_null=True,
        help_text="While queued: how many jobs will start before this one, those running on its queue included "
        "(people take turns: one user's many photos count once).",
    )
    error = serializers.CharField(source="restoration.error", read_only=True, help_text="Why the job failed.")
    strength = serializers.FloatField(
        source="restoration.strength",
        read_only=True,
        help_text="The strength the result's downloads and links apply, 0 (the photo as it is) to 1 (the model's "
        "full output); set it with PATCH. The metrics are the full output's.",
    )
    processing_seconds = serializers.FloatField(source="restoration.processing_seconds", read_only=True, allow_null=True)
    finished = serializers.DateTimeField(source="restoration.finished_at", read_only=True, allow_null=True)
    model = serializers.ChoiceField(
        source="restoration.choice", choices=Choice.choices, read_only=True, help_text="The choice: auto, best, fast or shake."
    )
    model_name = serializers.SerializerMethodField(
        help_text="What made the result: the network's model, or kernel-engine; null until it is done, and when the "
        "photo was left as it was."
    )
    method = serializers.SerializerMethodField(
        help_text="What made the result: kernel (the blur estimated and undone), network, or none (the photo was left "
        "as it was, and the result is the photo itself); null until it is done."
    )
    verdict = serializers.SerializerMethodField(
        help_text="The result against the photo, judged without a reference: sharper, little-change or not-improved "
        "(we could not improve this photo); null until it is done."
    )
    verdict_reason = serializers.SerializerMethodField(help_text="Why, in a sentence or two for the person.")
    decision = serializers.SerializerMethodField(help_text="For auto: which method it chose for this photo and why.")
    precision = serializers.SerializerMethodField(
        help_text="The arithmetic behind the result: float32 or bfloat16 (a network on a CPU with bfloat16 "
        "arithmetic); null until it is done, and when the photo was left as it was."
    )
    kernel_size = serializers.IntegerField(
        source="restoration.kernel_size",
        read_only=True,
        allow_null=True,
        help_text="The extent in pixels of the blur the kernel engine estimated, at the photo's full size.",
    )
    metrics = MetricsSerializer(source="restoration", read_only=True)
    has_reference = serializers.SerializerMethodField()
    urls_expire_in = serializers.SerializerMethodField(help_text="Seconds the *_url links below stay valid.")
    original_url = serializers.SerializerMethodField()
    normalised_url = serializers.SerializerMethodField()
    reference_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()
    result_url = serializers.SerializerMethodField()
    result_preview_url = serializers.SerializerMethodField()
    kernel_url = serializers.SerializerMethodField()
    glimpse_url = serializers.SerializerMethodField()
    current_result = serializers.IntegerField(
        source="restoration_id", read_only=True, help_text="The id of the current result, which the fields above describe."
    )
    results = serializers.SerializerMethodField(
        help_text="Every result kept, one per run, oldest first. Choose the current one with "
        "POST results/{result_id}/current/, delete one with DELETE results/{result_id}/."
    )

    class Meta:
        model = Photo
        fields = [
            "id", "original_name", "width", "height", "created", "notes",
            "status", "progress", "eta_seconds", "wait_seconds", "queue_position", "error", "strength", "processing_seconds", "finished",
            "model", "model_name", "method", "verdict", "verdict_reason", "decision", "precision", "kernel_size",
            "metrics", "has_reference", "urls_expire_in",
            "original_url", "normalised_url", "reference_url", "thumbnail_url", "preview_url", "result_url", "result_preview_url",
            "kernel_url", "glimpse_url", "current_result", "results",
        ]  # fmt: skip
        read_only_fields = fields

    def _url(self, file, download_name: str | None = None) -> str | None:
        return short_lived_url(self.context["request"], file, download_name=download_name)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_model_name(self, photo: Photo) -> str | None:
        return photo.restoration.model_name or None

    @extend_schema_field({"type": "string", "enum": [*Method.values, None], "nullable": True})
    def get_method(self, photo: Photo) -> str | None:
        return photo.restoration.method or None

    @extend_schema_field({"type": "string", "enum": ["float32", "bfloat16", None], "nullable": True})
    def get_precision(self, photo: Photo) -> str | None:
        return photo.restoration.precision or None

    @extend_schema_field({"type": "string", "enum": [*Verdict.values, None], "nullable": True})
    def get_verdict(self, photo: Photo) -> str | None:
        return photo.restoration.verdict or None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_verdict_reason(self, photo: Photo) -> str | None:
        return photo.restoration.verdict_reason or None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_decision(self, photo: Photo) -> str | None:
        return photo.restoration.decision or None

    def get_has_reference(self, photo: Photo) -> bool:
        return bool(photo.reference)

    def get_urls_expire_in(self, photo: Photo) -> int:
        return settings.PRESIGNED_URL_SECONDS

    @_url_field("The file as it was uploaded, byte for byte, under its own name and type.")
    def get_original_url(self, photo: Photo) -> str | None:
        return self._url(*original_download(photo))

    @_url_field("The normalised copy the site works from: PNG, upright, sRGB, without metadata.")
    def get_normalised_url(self, photo: Photo) -> str | None:
        return self._url(photo.original)

    @_url_field("The sharp reference (PNG), if one was uploaded.")
    def get_reference_url(self, photo: Photo) -> str | None:
        return self._url(photo.reference)

    @_url_field("JPEG, at most 480 px on its long side.")
    def get_thumbnail_url(self, photo: Photo) -> str | None:
        return self._url(photo.thumbnail)

    @_url_field("JPEG sized for screens, at most 1600 px on its long side.")
    def get_preview_url(self, photo: Photo) -> str | None:
        return self._url(photo.preview)

    @_url_field(
        "The full-resolution result (PNG) at the saved strength once the job succeeded; other formats from the "
        "result endpoint."
    )
    def get_result_url(self, photo: Photo) -> str | None:
        return short_lived_result_url(self.context["request"], photo)

    @_url_field("The model's full-strength result as a screen-sized JPEG (not blended at the saved strength).")
    def get_result_preview_url(self, photo: Photo) -> str | None:
        return self._url(photo.restoration.result_preview)

    @_url_field(
        "The blur the kernel engine estimated, drawn as the camera's path (PNG, light on dark, about 256 px); "
        "null when no kernel was estimated (a network's result)."
    )
    def get_kernel_url(self, photo: Photo) -> str | None:
        return self._url(photo.restoration.kernel_image)

    @_url_field(
        "While a long Best quality job runs: the centre of the photo, 512 px square at full resolution, deblurred "
        "first (JPEG); null otherwise."
    )
    def get_glimpse_url(self, photo: Photo) -> str | None:
        return self._url(photo.restoration.result_glimpse)

    @extend_schema_field(ResultSerializer(many=True))
    def get_results(self, photo: Photo) -> list[dict]:
        # Sorted here rather than in the query: a list of photos prefetches them all at once.
        kept = sorted(photo.results.all(), key=lambda result: (result.created, result.pk))
        for result in kept:
            result.photo = photo
        return ResultSerializer(kept, many=True, context=self.context).data
