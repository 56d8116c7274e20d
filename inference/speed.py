"""How fast each model deblurs on this site's workers: seconds of inference per megapixel,
kept per kind of worker and precision in `ModelVersion.speed` ("cpu-bfloat16"), and what a
job should take as a whole (expected), for routing and for the times users see.

Web processes read the figures; only workers import TensorFlow (worker_kind)."""

import functools
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inference import kernels
from inference.models import Choice, EngineSpeed, ModelVersion

# Weight of the newest job in the moving average: recent jobs count most (a new worker
# machine, a new TensorFlow), and one odd photo does not swing the estimate.
SMOOTHING = 0.3
# After inference: the figures, the result's PNG, JPEG and WebP and its two previews, and
# storing them, per megapixel (0.41 to 0.59 s/MP before storing, 0.3 to 12 MP, 2 cores with
# AVX-512, 2026-12-07).
FINISHING_SECONDS_PER_MEGAPIXEL = 0.6


@functools.cache
def worker_kind() -> str:
    """"gpu" when TensorFlow sees a GPU in this process, else "cpu"."""
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def worker_key(precision: str) -> str:
    """The key of this worker's figures: its kind and the precision it ran the model in."""
    return f"{worker_kind()}-{precision}"


def describe_key(key: str) -> str:
    """"cpu-bfloat16" as "CPU, bfloat16"; older figures' keys name the kind only."""
    kind, _, precision = key.partition("-")
    return f"{kind.upper()}, {precision}" if precision else kind.upper()


def _fold(row: ModelVersion | EngineSpeed, kind: str, name: str, sample: float) -> None:
    """Fold one job's figure into the row's moving average `name` for this kind of worker."""
    # A locked read-modify-write: two workers finishing at once both count.
    with transaction.atomic():
        locked = type(row).objects.select_for_update().filter(pk=row.pk).first()
        if locked is None:  # deleted while the job ran
            return
        figures = locked.speed.get(kind)
        if figures:
            average = figures[name] + SMOOTHING * (sample - figures[name])
            jobs = figures["jobs"] + 1
        else:
            average, jobs = sample, 1
        locked.speed[kind] = {name: average, "jobs": jobs, "updated": timezone.now().isoformat()}
        locked.save(update_fields=["speed"])
    row.speed = locked.speed


def record(version: ModelVersion, kind: str, seconds: float, megapixels: float) -> None:
    """Fold one job's inference time into the version's moving average for this kind of
    worker and precision (worker_key)."""
    if megapixels > 0:
        _fold(version, kind, "seconds_per_megapixel", seconds / megapixels)


def record_engine(budget: kernels.Budget, kind: str, seconds: float, megapixels: float) -> None:
    """Fold one job's kernel engine time into its budget's pace: the time over the cost the
    budget models. Workers differ (cores, other work on them) and so do CPUs."""
    row, _ = EngineSpeed.objects.get_or_create(budget=budget.name)
    _fold(row, kind, "pace", seconds / budget.seconds(megapixels))


def _latest(speed: dict) -> str:
    return max(speed, key=lambda key: speed[key]["updated"])


def engine_seconds(budget: kernels.Budget, megapixels: float) -> float:
    """The kernel engine's expected time on this photo: the budget's modelled cost at the pace
    measured on the kind of worker that ran it last, as modelled before any job ran."""
    row = EngineSpeed.objects.filter(pk=budget.name).first()
    pace = row.speed[_latest(row.speed)]["pace"] if row and row.speed else 1.0
    return pace * budget.seconds(megapixels)


def seconds_per_megapixel(version: ModelVersion) -> tuple[str, float] | None:
    """(worker key, seconds per megapixel) on the kind of worker and precision that ran the
    version last, as the next job most likely runs it;
    before any job ran, the figure its model card measured (a `seconds_per_megapixel[_<hardware>]`
    metric, the hardware standing for the kind); None when neither is known."""
    if version.speed:
        kind = _latest(version.speed)
        return kind, version.speed[kind]["seconds_per_megapixel"]
    for key, value in sorted(version.metrics.items()):
        if key.startswith("seconds_per_megapixel") and isinstance(value, (int, float)):
            return key.removeprefix("seconds_per_megapixel").lstrip("_") or "card", value
    return None


def network_seconds(key: str, megapixels: float) -> float | None:
    """The inference time of the model serving the choice `key` on this photo, or None when
    none serves it or its speed is unknown."""
    version = ModelVersion.serving(key)
    measured = seconds_per_megapixel(version) if version else None
    return megapixels * measured[1] if measured else None


def engine_budget(choice: str) -> kernels.Budget:
    """The kernel engine's budget for a choice that runs it (inference.auto.restore)."""
    return kernels.QUICK if choice == Choice.FAST else kernels.FULL


@dataclass(frozen=True)
class Expected:
    """What a job should take, in seconds, from the figures above. `seconds` is the likely
    time (Auto and Fast: the kernel engine's, which every photo takes first); `longest` adds
    the network that Auto and Fast run where the engine cannot help and, on clean photos,
    for a second opinion (inference.auto), for the queue the job goes to. None where a
    network's speed is unknown."""

    seconds: float | None
    longest: float | None


def expected(choice: str, megapixels: float) -> Expected:
    finishing = FINISHING_SECONDS_PER_MEGAPIXEL * megapixels
    if choice == Choice.BEST:
        network = network_seconds(choice, megapixels)
        total = None if network is None else network + finishing
        return Expected(total, total)
    engine = engine_seconds(engine_budget(choice), megapixels) + finishing
    if choice == Choice.SHAKE:
        return Expected(engine, engine)
    fallback = network_seconds(Choice.FAST if choice == Choice.FAST else Choice.BEST, megapixels)
    return Expected(engine, None if fallback is None else engine + fallback)
