"""Each test worker's own Redis databases (deblursite.tests.parallel)."""

import pytest

from deblursite.tests.parallel import worker_redis_url


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/15", 0, "redis://127.0.0.1:6379/15"),
        ("redis://127.0.0.1:6379/15", 1, "redis://127.0.0.1:6379/13"),
        ("rediscache://127.0.0.1:6379/14", 3, "rediscache://127.0.0.1:6379/8"),
    ],
)
def test_each_worker_moves_two_databases_down_on_the_same_server(url, worker, expected):
    assert worker_redis_url(url, worker) == expected


@pytest.mark.parametrize(
    ("url", "worker", "words"),
    [("redis://127.0.0.1:6379/3", 2, "Too many test workers"), ("redis://127.0.0.1:6379", 1, "names its database")],
)
def test_a_url_that_leaves_a_worker_no_database_of_its_own_is_refused(url, worker, words):
    with pytest.raises(pytest.UsageError, match=words):
        worker_redis_url(url, worker)
