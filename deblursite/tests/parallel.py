"""The test run split over processes (pytest-xdist, `make test`'s `-n 2`): each worker gets its
own Redis databases and var folder, as it gets its own PostgreSQL test database from
pytest-django. Tests flush the cache and the broker, and a worker's Celery worker takes any
job on its broker: shared, the workers would wipe each other's throttle counts and run each
other's jobs.

Loaded with -p (pyproject.toml), so that it runs after pytest-env has set the services' URLs
and before pytest-django reads the settings."""

import os
import re

import pytest

# Redis has databases 0 to 15; the run's own are the highest (pyproject.toml), and each worker
# moves down by this many.
REDIS_DATABASES_PER_WORKER = 2


def worker_redis_url(url: str, worker: int) -> str:
    """The URL of the database `worker` places below the URL's own, in the same server."""
    match = re.fullmatch(r"(?P<server>\w+://[^/]+)/(?P<db>\d+)", url)
    if not match:
        raise pytest.UsageError(f"Parallel tests need a Redis URL that names its database, not {url!r}.")
    database = int(match["db"]) - REDIS_DATABASES_PER_WORKER * worker
    if database < 0:
        raise pytest.UsageError(f"Too many test workers for the Redis databases under {url}: use fewer (-n).")
    return f"{match['server']}/{database}"


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    name = os.environ.get("PYTEST_XDIST_WORKER")
    if not name:
        return
    worker = int(name.removeprefix("gw"))
    for variable in ("CELERY_BROKER_URL", "CACHE_URL"):
        os.environ[variable] = worker_redis_url(os.environ[variable], worker)
    os.environ["VAR_DIR"] = f"{os.environ['VAR_DIR']}-{name}"
