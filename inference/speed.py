"""How fast each model deblurs on this site's workers: seconds of inference per megapixel,
kept per kind of worker in `ModelVersion.speed`, for the time estimates users see.

Web processes read the figures; only workers import TensorFlow (worker_kind)."""

import functools

from django.db import transaction
from django.utils import timezone

from inference.models import ModelVersion

# Weight of the newest job in the moving average: recent jobs count most (a new worker
# machine, a new TensorFlow), and one odd photo does not swing the estimate.
SMOOTHING = 0.3


@functools.cache
def worker_kind() -> str:
    """"gpu" when TensorFlow sees a GPU in this process, else "cpu"."""
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def record(version: ModelVersion, kind: str, seconds: float, megapixels: float) -> None:
    """Fold one job's inference time into the version's moving average for this kind of worker."""
    if megapixels <= 0:
        return
    sample = seconds / megapixels
    # A locked read-modify-write: two workers finishing at once both count.
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().filter(pk=version.pk).first()
        if locked is None:  # deleted while the job ran
            return
        figures = locked.speed.get(kind)
        if figures:
            average = figures["seconds_per_megapixel"] + SMOOTHING * (sample - figures["seconds_per_megapixel"])
            jobs = figures["jobs"] + 1
        else:
            average, jobs = sample, 1
        locked.speed[kind] = {"seconds_per_megapixel": average, "jobs": jobs, "updated": timezone.now().isoformat()}
        locked.save(update_fields=["speed"])
    version.speed = locked.speed


def seconds_per_megapixel(version: ModelVersion) -> tuple[str, float] | None:
    """(worker kind, seconds per megapixel) on the kind of worker that ran the version last;
    before any job ran, the figure its model card measured (a `seconds_per_megapixel[_<hardware>]`
    metric, the hardware standing for the kind); None when neither is known."""
    if version.speed:
        kind = max(version.speed, key=lambda key: version.speed[key]["updated"])
        return kind, version.speed[kind]["seconds_per_megapixel"]
    for key, value in sorted(version.metrics.items()):
        if key.startswith("seconds_per_megapixel") and isinstance(value, (int, float)):
            return key.removeprefix("seconds_per_megapixel").lstrip("_") or "card", value
    return None
