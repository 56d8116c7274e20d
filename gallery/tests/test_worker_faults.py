"""A worker that loses the database in the middle of a job, on the real PostgreSQL and
Redis: the backend of its connection is terminated (what a server restart does to it),
and the job still ends in seconds, not after beat's stale check (JOB_STALE_SECONDS).
And beat's stale check itself never waits behind deblurring jobs."""

import time

import psycopg
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from deblursite.celery import app
from gallery import tasks
from gallery.models import Restoration
from gallery.uploads import accept_photo

from .conftest import photo_bytes, upload, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def long_job(settings, alice, active_model, broker):
    """A photo whose job takes some seconds (small tiles), running on a worker of this process."""
    settings.INFERENCE_TILE, settings.INFERENCE_OVERLAP = 32, 8
    with start_worker(app, perform_ping_check=False, queues=["deblur"], shutdown_timeout=30):
        image = upload("long.png", photo_bytes(size=(512, 512), fmt="PNG"))
        photo = accept_photo(alice, image, original_name="long.png", choice="best")
        job = Restoration.objects.get(photo=photo)
        wait_for(lambda: Restoration.objects.get(pk=job.pk).progress > 0, timeout=120)
        yield job


def terminate_other_connections() -> int:
    """Terminate every other backend on the test database: the worker's, as a restart would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def allow_connections(allowed: bool) -> None:
    """Let new connections to the test database in, or refuse them as a restarting server
    does. PostgreSQL takes this from a connection to another database only."""
    db = connection.settings_dict
    where = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"] or None}
    with psycopg.connect(**where, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{db["NAME"]}" WITH ALLOW_CONNECTIONS {allowed}')


def finished(job: Restoration, timeout: float) -> Restoration:
    return wait_for(lambda: (r := Restoration.objects.get(pk=job.pk)).is_done and r, timeout=timeout)


def test_a_job_whose_connection_is_killed_reconnects_and_goes_on(long_job):
    assert terminate_other_connections() >= 1
    assert Restoration.objects.get(pk=long_job.pk).progress < 0.9, "the job must still have been running"

    done = finished(long_job, timeout=60)

    assert (done.status, done.progress, done.attempts, done.error) == ("succeeded", 1.0, 1, "")
    assert done.result and done.model_name == "tiny-test"


def test_a_database_that_stays_away_a_moment_sends_the_job_round_again(long_job):
    # As a restart: the connection dies and a new one is refused for a while.
    allow_connections(False)
    try:
        assert terminate_other_connections() >= 1
        time.sleep(2)
    finally:
        allow_connections(True)

    done = finished(long_job, timeout=60)

    # Taken over by the task's retry, at once rather than after JOB_STALE_SECONDS.
    assert (done.status, done.attempts, done.error) == ("succeeded", 2, "")


def test_beat_stale_check_goes_to_the_maintenance_queue_past_waiting_deblur_jobs(alice, media_storage, broker):
    photo = accept_photo(alice, upload("a.jpg", photo_bytes()), original_name="a.jpg")
    # Its message was lost before it reached the broker.
    Restoration.objects.filter(photo=photo).update(enqueued_at=None)
    broker.delete("deblur")
    for missing in range(3):
        tasks.deblur.delay(10_000 + missing)

    tasks.requeue_stale.delay()
    assert (broker.llen("maintenance"), broker.llen("deblur")) == (1, 3)

    with start_worker(app, perform_ping_check=False, queues=["maintenance"], shutdown_timeout=30):
        wait_for(lambda: Restoration.objects.get(photo=photo).enqueued_at is not None, timeout=30)
    assert broker.llen("deblur") == 4
