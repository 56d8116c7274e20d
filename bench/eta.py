"""How right the times people see are: jobs of mixed sizes and choices run through the
worker's own code (gallery.jobs.run) one after the other, as one worker would, on real
blurred frames (../shared/benchmarks). For each job: the time expected when it was queued,
the time it took from claim to result, and the error; while it runs, the time left the photo
page shows (gallery.timing) is read every 0.25 s, and every rise of it is counted.

Needs the site's models (`make run` installs them: the default NAFNet serving Fast, SRN
serving Best quality) in the database that the settings name:

    .venv/bin/python bench/eta.py                 # 12 jobs, 0.3 to 12 MP
    .venv/bin/python bench/eta.py --quick         # 6 jobs, up to 2 MP

The first job of each model loads it, as on a fresh worker; the speeds the jobs measure
feed the next jobs' estimates (inference.speed.record), as on the site.
"""

import argparse
import statistics
import threading
import time
from pathlib import Path

import common  # noqa: F401  (Django set up, the project on the path)
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image

from gallery import jobs
from gallery.models import Restoration
from gallery.uploads import delete_photo, keep_photo
from inference import kernels, precision, speed

SHARED = common.REPO.parent / "shared" / "benchmarks"
# (megapixels, choice, source): street frames for the networks and Auto, shaken photos for
# Camera shake and Auto; sizes from a phone's thumbnail to a 12 MP photo.
JOBS = [
    (0.3, "fast", "gopro-real"),
    (0.9, "best", "gopro-real"),
    (0.6, "shake", "kohler"),
    (2.0, "auto", "kohler"),
    (0.9, "auto", "gopro-real"),
    (3.0, "fast", "gopro-real"),
    (4.0, "best", "gopro-real"),
    (1.0, "shake", "kohler"),
    (8.0, "shake", "kohler"),
    (2.0, "best", "gopro-real"),
    (12.0, "auto", "kohler"),
    (12.0, "best", "gopro-real"),
]
QUICK = [job for job in JOBS if job[0] <= 2.0][:6]
POLL_SECONDS = 0.25
# Rises smaller than this are rounding, not news.
RISE_SECONDS = 0.5


def photo_of(megapixels: float, source: str, index: int) -> Image.Image:
    frames = sorted((SHARED / source / "blur").iterdir())
    image = Image.open(frames[index % len(frames)]).convert("RGB")
    scale = (megapixels * 1e6 / (image.width * image.height)) ** 0.5
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def watch(job_id: int, done: threading.Event, seen: list[tuple[float, float]]) -> None:
    """The time left of the running job, as its page would show it, every POLL_SECONDS."""
    while not done.is_set():
        job = Restoration.objects.select_related("photo").get(pk=job_id)
        if job.status == Restoration.Status.RUNNING and job.eta_seconds is not None:
            seen.append((time.monotonic(), job.eta_seconds))
        time.sleep(POLL_SECONDS)


def rises(seen: list[tuple[float, float]]) -> list[float]:
    return [later - earlier for (_, earlier), (_, later) in zip(seen, seen[1:]) if later - earlier > RISE_SECONDS]


def run(index: int, megapixels: float, choice: str, source: str, user) -> dict:
    photo = keep_photo(user, photo_of(megapixels, source, index), original_name=f"{source}-{index}.png", notes=[], choice=choice)
    job = photo.restoration
    expected = Restoration.objects.get(pk=job.pk).expected_seconds
    seen: list[tuple[float, float]] = []
    done = threading.Event()
    watcher = threading.Thread(target=watch, args=(job.pk, done, seen))
    watcher.start()
    try:
        jobs.run(job.pk)
    finally:
        done.set()
        watcher.join()
    job = Restoration.objects.get(pk=job.pk)
    actual = job.processing_seconds
    row = {
        "megapixels": photo.megapixels, "choice": choice, "source": source, "method": job.method,
        "expected": expected, "actual": actual, "final_expected": job.expected_seconds, "rises": rises(seen),
        "status": job.status,
    }  # fmt: skip
    delete_photo(photo)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="six jobs of at most 2 MP")
    args = parser.parse_args()
    user, _ = get_user_model().objects.get_or_create(username="bench-eta")
    for left_over in user.photos.all():  # of a run that was stopped: they would be ahead in the queue
        delete_photo(left_over)
    print(f"CPU flags: {' '.join(sorted(precision.cpu_flags() & (precision.HARDWARE_BFLOAT16 | {'avx2', 'avx512f'})))}")
    print(f"{precision.why(settings.INFERENCE_PRECISION)} Kernel engine {kernels.ESTIMATION_SECONDS:g} s + {kernels.FULL.seconds_per_megapixel:g} s/MP")
    print(f"{'MP':>5} {'choice':>6} {'source':>10} {'method':>7} {'expected':>9} {'actual':>8} {'error':>7}  time left rose")
    rows = []
    started = timezone.now()
    for index, (megapixels, choice, source) in enumerate(QUICK if args.quick else JOBS):
        row = run(index, megapixels, choice, source, user)
        rows.append(row)
        error = (row["expected"] - row["actual"]) / row["actual"] if row["expected"] else None
        row["error"] = error
        rose = ", ".join(f"+{rise:.1f} s" for rise in row["rises"]) or "never"
        shown = f"{error:+7.0%}" if error is not None else "      -"
        expected = f"{row['expected']:8.1f}s" if row["expected"] else "        -"
        print(f"{row['megapixels']:5.1f} {choice:>6} {source:>10} {row['method'] or '-':>7} {expected} "
              f"{row['actual']:7.1f}s {shown}  {rose}", flush=True)  # fmt: skip
    errors = [abs(row["error"]) for row in rows if row["error"] is not None]
    # Auto and Fast hand some photos from the kernel engine to a network, whose time then adds.
    steady = [row for row in rows if row["choice"] in ("best", "shake") or row["method"] == "kernel"]
    print(f"\n{len(rows)} jobs in {(timezone.now() - started).total_seconds():.0f} s")
    print(f"estimate at queue time: mean absolute error {statistics.mean(errors):.0%}, "
          f"median {statistics.median(errors):.0%}, worst {max(errors):.0%}")  # fmt: skip
    print(f"time left rose by more than {RISE_SECONDS} s in {sum(bool(row['rises']) for row in steady)} of {len(steady)} "
          "jobs that ran one method")  # fmt: skip
    print("speeds now:", {version.name: version.speed for version in speed.ModelVersion.objects.exclude(speed={})})


if __name__ == "__main__":
    main()
