"""The times people see: progress between the worker's writes, a time left that does not
rise while a job keeps its pace, queued waits, and a long job's glimpse."""

from datetime import datetime, timedelta, timezone

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from gallery import jobs, timing
from gallery.models import Restoration
from gallery.timing import Run
from gallery.uploads import accept_photo
from inference import speed

from .conftest import photo_bytes, upload

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_total_is_the_expected_time_unless_the_job_runs_much_slower():
    on_pace = Run(T0, at(30), progress=0.25, cap=0.3, expected=120.0)
    a_little_slow = Run(T0, at(36), progress=0.25, cap=0.3, expected=120.0)  # 144 s at this pace
    much_slower = Run(T0, at(60), progress=0.25, cap=0.3, expected=120.0)  # 240 s at this pace, 90 s over 1.25x
    unknown = Run(T0, at(60), progress=0.25, cap=0.3, expected=None)
    slow_start = Run(T0, at(30), progress=0.1, cap=0.5, expected=120.0)  # 300 s at this pace, a tenth in

    assert timing.total_seconds(on_pace) == 120.0
    assert timing.total_seconds(a_little_slow) == 120.0
    assert timing.total_seconds(much_slower) == pytest.approx(120.0 + 90.0)
    assert timing.total_seconds(unknown) == pytest.approx(240.0)
    assert timing.total_seconds(slow_start) == 120.0  # too early to judge the pace
    assert timing.total_seconds(Run(T0, at(1), progress=0.0, cap=0.0, expected=None)) is None


def test_progress_moves_on_within_a_tile_up_to_its_end():
    run = Run(T0, at(30), progress=0.25, cap=0.3, expected=120.0)

    assert timing.progress_at(run, at(30)) == pytest.approx(0.25)
    assert timing.progress_at(run, at(33)) == pytest.approx(0.275)
    assert timing.progress_at(run, at(50)) == pytest.approx(0.3)  # the tile ran long: the bar waits at its end
    assert timing.seconds_left(run, at(33)) == pytest.approx(120 * 0.725)
    # With the tile's end not known, the bar waits for the worker's report.
    assert timing.progress_at(Run(T0, at(0), progress=0.1, cap=0.1, expected=100.0), at(5)) == pytest.approx(0.1)


def simulate(pace: float, jitter: list[float], tiles: int = 20, expected: float = 100.0, share: float = 0.9):
    """A job as _ProgressWriter writes it: tiles of equal share, each taking its expected time
    times `pace` times a jitter, then the finishing. Yields the Run after each write."""
    written, now = [], 0.0
    tile_seconds = expected * share / tiles
    for k in range(1, tiles + 1):
        now += tile_seconds * pace * jitter[k % len(jitter)]
        fraction = k / tiles
        cap = 1.0 if k == tiles else share * (fraction + 1 / tiles)
        written.append(Run(T0, at(now), progress=share * fraction, cap=cap, expected=expected))
    return written


@pytest.mark.parametrize("pace", [0.85, 1.0, 1.2])
def test_the_time_left_never_rises_while_the_job_keeps_about_its_expected_pace(pace):
    runs = simulate(pace, jitter=[1.0, 1.08, 0.93, 1.04, 0.97])
    seen = []
    for run, following in zip(runs, runs[1:]):
        moment = run.written
        while moment < following.written:
            seen.append(timing.seconds_left(run, moment))
            moment += timedelta(seconds=0.25)
    assert all(later <= earlier + 1e-9 for earlier, later in zip(seen, seen[1:]))
    assert seen[0] > seen[-1] >= 0


def test_a_queued_jobs_wait_shares_the_work_ahead_among_its_queues_workers():
    assert timing.wait_seconds([30.0], [20.0, 10.0], workers=1) == 60.0
    assert timing.wait_seconds([30.0], [20.0, 10.0], workers=2) == 30.0
    assert timing.wait_seconds([], [], workers=1) == 0.0


def test_a_queued_jobs_wait_counts_the_running_jobs_time_left(alice, bob, media_storage, monkeypatch, settings):
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: None)
    running = accept_photo(bob, upload("b.jpg", photo_bytes()), original_name="b.jpg", choice="shake").restoration
    mine = accept_photo(alice, upload("a.jpg", photo_bytes()), original_name="a.jpg", choice="shake").restoration
    now = datetime.now(timezone.utc)
    Restoration.objects.filter(pk=running.pk).update(
        status="running", started_at=now - timedelta(seconds=10), heartbeat_at=now, progress=0.5, progress_cap=0.6,
        expected_seconds=20.0,
    )  # fmt: skip

    mine = Restoration.objects.get(pk=mine.pk)

    assert mine.queue_position == 1
    assert mine.wait_seconds == pytest.approx(10.0, abs=0.5)
    assert mine.eta_seconds == pytest.approx(mine.wait_seconds + mine.expected_seconds)
    settings.QUEUE_WORKERS = {"deblur": 2, "deblur-long": 1}
    assert Restoration.objects.get(pk=mine.pk).wait_seconds == pytest.approx(5.0, abs=0.5)


def test_the_worker_writes_the_share_of_the_expected_time_and_where_the_tile_ends(alice, media_storage, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_WRITE_SECONDS", 0.0)
    job = accept_photo(alice, upload("a.jpg", photo_bytes(size=(1000, 1000))), original_name="a.jpg").restoration
    claimed = jobs.claim(job.pk)
    writer = jobs._ProgressWriter(claimed)
    finishing = speed.FINISHING_SECONDS_PER_MEGAPIXEL

    writer.begin(9.0, [0.25, 0.5, 0.75, 1.0])
    row = Restoration.objects.get(pk=job.pk)
    assert row.expected_seconds == pytest.approx(9.0 + finishing, abs=0.1)
    share = 9.0 / row.expected_seconds
    writes = [row.progress, row.progress_cap]
    for fraction in (0.25, 0.5, 0.75, 1.0):
        writer(fraction)
        row = Restoration.objects.get(pk=job.pk)
        writes += [row.progress, row.progress_cap]

    assert writes == pytest.approx([
        0.0, 0.25 * share,  # the first tile runs
        0.25 * share, 0.5 * share,
        0.5 * share, 0.75 * share,
        0.75 * share, 1.0 * share,
        share, 1.0,  # the finishing follows
    ], abs=1e-3)  # fmt: skip


def test_a_long_best_job_shows_a_glimpse_of_the_centre_first_and_drops_it_at_the_end(
    alice_client, alice, active_model, monkeypatch
):
    # 0.3 MP at 400 s per megapixel: over the glimpse's 30 s.
    speed.record(active_model, "cpu-float32", seconds=400.0, megapixels=1.0)
    job = accept_photo(alice, upload("big.jpg", photo_bytes(size=(640, 480))), original_name="big.jpg", choice="best").restoration
    from inference import engine

    seen = {}
    original_deblur = engine.deblur

    def deblur(model, rgb, **kwargs):
        if rgb.shape[:2] == (480, 640):  # the whole photo, after the glimpse
            row = Restoration.objects.get(pk=job.pk)
            seen["status"] = alice_client.get(reverse("gallery:status", args=[job.photo_id])).json()
            seen["file"] = alice_client.get(seen["status"]["glimpse_url"])
            seen["stored"] = row.result_glimpse.name
        else:
            seen["glimpse shape"] = rgb.shape
        return original_deblur(model, rgb, **kwargs)

    monkeypatch.setattr(engine, "deblur", deblur)
    jobs.run(job.pk)

    assert seen["glimpse shape"] == (480, 512, 3)  # the centre, at full resolution
    assert seen["status"]["status"] == "running" and seen["file"].status_code == 200
    assert seen["file"]["Content-Type"] == "image/jpeg"
    job = Restoration.objects.get(pk=job.pk)
    assert job.status == "succeeded" and not job.result_glimpse
    assert not default_storage.exists(seen["stored"])


def test_a_short_best_job_has_no_glimpse(alice, active_model):
    speed.record(active_model, "cpu-float32", seconds=1.0, megapixels=1.0)
    job = accept_photo(alice, upload("a.jpg", photo_bytes()), original_name="a.jpg", choice="best").restoration
    jobs.run(job.pk)
    assert not default_storage.exists(f"results/{job.photo_id}-{job.pk}-glimpse.jpg")


def test_the_kernel_engines_measured_pace_scales_its_expected_time(alice, media_storage):
    from inference import kernels

    modelled = kernels.FULL.seconds(2.0)
    assert speed.engine_seconds(kernels.FULL, 2.0) == pytest.approx(modelled)  # before any job ran

    # A worker that shares its cores runs the engine at half the modelled speed.
    speed.record_engine(kernels.FULL, "cpu-float32", seconds=2 * kernels.FULL.seconds(1.0), megapixels=1.0)

    assert speed.engine_seconds(kernels.FULL, 2.0) == pytest.approx(2 * modelled)
    assert speed.engine_seconds(kernels.QUICK, 2.0) == pytest.approx(kernels.QUICK.seconds(2.0))
    job = accept_photo(alice, upload("a.jpg", photo_bytes(size=(2000, 1000))), original_name="a.jpg", choice="shake")
    assert job.restoration.expected_seconds == pytest.approx(2 * modelled + 2.0 * speed.FINISHING_SECONDS_PER_MEGAPIXEL)


def test_a_kernel_engine_job_records_its_pace(alice, media_storage):
    from inference.models import EngineSpeed

    from .test_auto import png, scene, shaken

    job = accept_photo(alice, upload("s.png", png(shaken(scene(256))), "image/png"), original_name="s.png", choice="shake").restoration
    jobs.run(job.pk)

    assert Restoration.objects.get(pk=job.pk).method == "kernel"
    figures = EngineSpeed.objects.get(budget="full").speed[f"{speed.worker_kind()}-float32"]
    assert figures["jobs"] == 1 and figures["pace"] > 0
