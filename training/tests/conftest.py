import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

from training.ingestion import benchmark_guard
from training.tests.fake_unsplash import ACCESS_KEY, FakeUnsplash


@pytest.fixture
def fake_unsplash(settings):
    """A fake Unsplash on a loopback port, with the settings pointing at it: 75 photos,
    a generous hourly limit, and retries that do not wait."""
    server = FakeUnsplash(photo_count=75).start()
    settings.UNSPLASH_API_URL = server.url
    settings.UNSPLASH_ACCESS_KEY = ACCESS_KEY
    settings.UNSPLASH_BACKOFF_SECONDS = 0.01
    settings.UNSPLASH_TIMEOUT_SECONDS = 5.0
    settings.UNSPLASH_HOURLY_BUDGET = 50
    yield server
    server.stop()


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[int, object]]:
    """The ingestion messages that would have gone to the etl queue: (job id, eta)."""
    calls: list[tuple[int, object]] = []
    monkeypatch.setattr("training.ingestion.jobs.enqueue", lambda job_id, eta=None: calls.append((job_id, eta)))
    return calls


@pytest.fixture(scope="session")
def shared_benchmark_cache() -> Path:
    """The shared benchmarks' fingerprints, hashed once (it takes seconds) in the run's VAR_DIR."""
    benchmark_guard.shared_fingerprints()
    return Path(django_settings.VAR_DIR) / benchmark_guard.CACHE_NAME


@pytest.fixture
def datasets(db, media_storage, settings, tmp_path, shared_benchmark_cache):
    """The datasets storage in a fresh folder, and a fresh local cache (VAR_DIR) for the
    copies that train and evaluate read, seeded with the shared benchmarks' fingerprints
    (every ingestion checks against them). Returns the storage's folder."""
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    if shared_benchmark_cache.exists():
        shutil.copy(shared_benchmark_cache, settings.VAR_DIR)
    return media_storage / "datasets"


@pytest.fixture
def staff_client(client, db):
    admin = get_user_model().objects.create_user("root", "root@example.com", "x", is_staff=True)
    client.force_login(admin)
    return client
