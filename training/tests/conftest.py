import pytest

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
    monkeypatch.setattr("training.ingest.enqueue", lambda job_id, eta=None: calls.append((job_id, eta)))
    return calls


@pytest.fixture
def datasets(db, media_storage, settings, tmp_path):
    """The datasets storage in a fresh folder, and a fresh local cache (VAR_DIR) for the
    copies that train and evaluate read. Returns the storage's folder."""
    settings.VAR_DIR = tmp_path / "var"
    return media_storage / "datasets"
