"""The Unsplash source against a fake Unsplash on loopback (training/tests/fake_unsplash.py):
the headers, pagination, download tracking, attribution, licence, the hourly budget
and every way the API can answer badly. Never the network."""

from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conftest import free_port
from deblursite.celery import app
from training import tasks
from training.ingestion import jobs as ingest
from training.ingestion.budget import WINDOW
from training.ingestion.jobs import enqueue as real_enqueue  # taken before the tests replace it
from training.models import ApiBudget, Dataset, DatasetImage, IngestJob
from training.ingestion.sources import UNSPLASH_LICENCE
from training.tests.fake_unsplash import ACCESS_KEY
from training.ingestion.unsplash import API, UnsplashClient, with_referral

Status = IngestJob.Status
Reason = DatasetImage.Reason


@pytest.fixture(autouse=True)
def _setup(datasets, enqueued):
    """Every test: the datasets storage in a temp folder, and no message sent to a real queue."""


def unsplash_job(count: int, licence_basis: str = "", name: str = "from-unsplash", query: str = "mountains") -> IngestJob:
    dataset, _ = Dataset.objects.get_or_create(name=name)
    return IngestJob.objects.create(
        dataset=dataset, source=IngestJob.Source.UNSPLASH, query=query, count=count, licence_basis=licence_basis
    )


def run(job: IngestJob) -> IngestJob:
    done = ingest.run(job.pk)
    assert done is not None, "the job could not be claimed"
    return done


def ids(server, indexes) -> list[str]:
    return [server.photo_id(i) for i in indexes]


def kept_ids(job: IngestJob) -> list[str]:
    rows = job.dataset.images.filter(status=DatasetImage.Status.KEPT).order_by("source_id")
    return list(rows.values_list("source_id", flat=True))


def let_the_hour_pass(job: IngestJob) -> None:
    """What an hour of waiting does: the budget's window and the job's pause are over."""
    hour_and_a_bit = WINDOW + timedelta(minutes=1)
    budget = ApiBudget.objects.get(api=API)
    ApiBudget.objects.filter(pk=budget.pk).update(window_start=budget.window_start - hour_and_a_bit)
    IngestJob.objects.filter(pk=job.pk).update(resume_at=timezone.now() - timedelta(minutes=1))


# Requests


def test_api_requests_carry_the_key_and_version_and_ask_for_30_per_page(fake_unsplash):
    job = run(unsplash_job(3, query="misty mountains"))

    assert job.status == Status.SUCCEEDED, job.error
    api = fake_unsplash.api_requests()
    assert api, "no API request reached the fake Unsplash"
    for request in api:
        assert request.headers["authorization"] == f"Client-ID {ACCESS_KEY}"
        assert request.headers["accept-version"] == "v1"
    (search,) = fake_unsplash.searches()
    assert search.query == {"query": "misty mountains", "page": "1", "per_page": "30"}


def test_per_page_is_never_above_30(fake_unsplash):
    photos, pages = UnsplashClient().search("sea", page=1, per_page=100)

    assert fake_unsplash.searches()[0].query["per_page"] == "30"
    assert (len(photos), pages) == (30, 3)


def test_pages_are_followed_until_the_count_is_kept(fake_unsplash):
    job = run(unsplash_job(35))

    assert job.status == Status.SUCCEEDED, job.error
    assert [s.query["page"] for s in fake_unsplash.searches()] == ["1", "2"]
    assert (job.kept, job.rejected, job.seen) == (35, 0, 35)
    assert kept_ids(job) == ids(fake_unsplash, range(35))
    # Exactly the photos kept were tracked and downloaded, once each.
    assert fake_unsplash.tracked() == ids(fake_unsplash, range(35))
    # download_location is called as Unsplash gave it, with its own query.
    assert {tuple(r.query.items()) for r in fake_unsplash.requests if r.path.endswith("/download")} == {(("ixid", "abc"),)}
    images = [r.path for r in fake_unsplash.requests if r.path.startswith("/images/")]
    assert images == [f"/images/{photo_id}.jpg" for photo_id in ids(fake_unsplash, range(35))]
    assert "35 kept, 0 rejected" in job.log


def test_it_stops_when_the_search_runs_out_of_pages(fake_unsplash):
    fake_unsplash.photo_count = 40

    job = run(unsplash_job(100))

    assert job.status == Status.SUCCEEDED, job.error
    assert [s.query["page"] for s in fake_unsplash.searches()] == ["1", "2"]
    assert job.kept == 40
    assert kept_ids(job) == ids(fake_unsplash, range(40))


def test_an_empty_search_finishes_with_nothing(fake_unsplash):
    fake_unsplash.photo_count = 0

    job = run(unsplash_job(5))

    assert (job.status, job.kept, job.rejected) == (Status.SUCCEEDED, 0, 0)
    assert len(fake_unsplash.searches()) == 1


def test_the_configured_urls_variant_is_downloaded(fake_unsplash, settings):
    settings.UNSPLASH_IMAGE_VARIANT = "regular"

    run(unsplash_job(1))

    (image,) = [r for r in fake_unsplash.requests if r.path.startswith("/images/")]
    assert image.query == {"ixid": "abc", "w": "1080"}


# Attribution and licence


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_attribution_is_stored_with_referral_links(fake_unsplash):
    job = run(unsplash_job(2))

    row = job.dataset.images.get(source_id=fake_unsplash.photo_id(1))
    attribution = row.attribution
    assert attribution["photographer"] == "Ann Snapper 1"
    assert attribution["text"] == "Photo by Ann Snapper 1 on Unsplash"
    for link, base in (
        ("photographer_url", "https://unsplash.com/@snapper1"),
        ("photo_url", f"https://unsplash.com/photos/{fake_unsplash.photo_id(1)}"),
        ("source_url", "https://unsplash.com/"),
    ):
        assert attribution[link].startswith(base + "?")
        assert _query(attribution[link]) == {"utm_source": ["deblur"], "utm_medium": ["referral"]}
    assert row.source == "unsplash"
    # The raw copy is the file Unsplash served.
    with row.raw.open("rb") as raw:
        assert raw.read() == fake_unsplash.image(1)


def test_referral_parameters_are_appended_to_an_existing_query(settings):
    settings.UNSPLASH_APP_NAME = "my app"
    url = with_referral("https://unsplash.com/@ann?lang=en")
    assert _query(url) == {"lang": ["en"], "utm_source": ["my app"], "utm_medium": ["referral"]}


def test_unsplash_photos_are_not_trainable_without_a_licence_basis(fake_unsplash):
    job = run(unsplash_job(2))

    rows = job.dataset.images.all()
    assert [(r.status, r.licence, r.trainable) for r in rows] == [("kept", UNSPLASH_LICENCE, False)] * 2
    assert all(r.attribution["licence_basis"] == "" for r in rows)


def test_unsplash_photos_are_trainable_with_the_licence_basis_recorded(fake_unsplash):
    basis = "Written permission from Unsplash, 2025-01-10, ticket 1234"

    job = run(unsplash_job(2, licence_basis=basis))

    rows = job.dataset.images.all()
    assert [(r.licence, r.trainable) for r in rows] == [(UNSPLASH_LICENCE, True)] * 2
    assert all(r.attribution["licence_basis"] == basis for r in rows)


# The hourly budget


def test_the_job_pauses_when_the_budget_is_spent_and_continues_in_the_next_window(fake_unsplash, settings, enqueued):
    settings.UNSPLASH_HOURLY_BUDGET = 20

    job = run(unsplash_job(35))

    # A search and 19 download trackings; the 20th photo is not touched.
    assert len(fake_unsplash.api_requests()) == 20
    assert job.status == Status.PAUSED
    assert job.kept == 19
    window_start = ApiBudget.objects.get(api=API).window_start
    assert job.resume_at == window_start + timedelta(hours=1)
    assert timezone.now() + timedelta(minutes=59) < job.resume_at <= timezone.now() + timedelta(hours=1)
    assert enqueued == [(job.pk, job.resume_at)]
    assert "Paused: Hourly request budget spent" in job.log
    assert job.finished_at is None

    # Before the hour is over, nothing happens, and nothing is asked of Unsplash.
    assert ingest.run(job.pk) is None
    assert len(fake_unsplash.api_requests()) == 20

    let_the_hour_pass(job)
    job = run(job)

    assert job.status == Status.SUCCEEDED, job.error
    # Page 1 again (1), the 11 photos left on it, page 2 (1) and 5 of its photos.
    assert len(fake_unsplash.api_requests()) == 20 + 18
    assert job.kept == 35
    assert kept_ids(job) == ids(fake_unsplash, range(35))
    assert sorted(fake_unsplash.tracked()) == ids(fake_unsplash, range(35))  # each once
    assert job.dataset.images.count() == 35
    assert "Continuing." in job.log


def test_a_pause_sends_a_delayed_etl_ingest_message_to_the_etl_queue(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.ingest, "apply_async", lambda args, eta=None: sent.append((args, eta)))
    eta = timezone.now() + timedelta(minutes=42)

    real_enqueue(7, eta=eta)

    assert sent == [((7,), eta)]
    assert tasks.ingest.name == "etl.ingest"
    assert app.amqp.router.route({}, "etl.ingest", (7,), {})["queue"].name == "etl"


def test_the_periodic_task_continues_a_paused_job_whose_message_was_lost(fake_unsplash, settings, enqueued):
    settings.UNSPLASH_HOURLY_BUDGET = 3
    job = run(unsplash_job(4))
    assert job.status == Status.PAUSED
    enqueued.clear()  # the delayed message is lost

    assert tasks.resume_due() == 0
    let_the_hour_pass(job)
    assert tasks.resume_due() == 1

    assert enqueued == [(job.pk, None)]


def test_the_budget_is_shared_by_jobs_in_the_same_window(fake_unsplash, settings):
    settings.UNSPLASH_HOURLY_BUDGET = 6
    first = run(unsplash_job(3, name="first"))
    assert first.status == Status.SUCCEEDED  # a search and 3 trackings: 4 of 6

    second = run(unsplash_job(3, name="second"))

    assert second.status == Status.PAUSED
    assert second.kept == 1  # a search and one tracking
    assert len(fake_unsplash.api_requests()) == 6


def test_ratelimit_remaining_zero_pauses_before_the_next_request(fake_unsplash, settings):
    fake_unsplash.remaining_override = 0

    job = run(unsplash_job(5))

    assert job.status == Status.PAUSED
    assert len(fake_unsplash.api_requests()) == 1  # the search that said 0 left
    assert job.kept == 0
    assert ApiBudget.objects.get(api=API).used == settings.UNSPLASH_HOURLY_BUDGET


def test_rate_limit_exceeded_403_pauses_the_job(fake_unsplash, settings, enqueued):
    fake_unsplash.fail_next("/photos/", 403, "Rate Limit Exceeded")

    job = run(unsplash_job(5))

    assert job.status == Status.PAUSED
    assert job.error == ""
    assert job.kept == 0
    assert enqueued == [(job.pk, job.resume_at)]
    assert ApiBudget.objects.get(api=API).used == settings.UNSPLASH_HOURLY_BUDGET

    # The delayed message, when it arrives: the etl.ingest task.
    let_the_hour_pass(job)
    tasks.ingest(job.pk)
    job.refresh_from_db()

    assert (job.status, job.kept) == (Status.SUCCEEDED, 5)
    assert kept_ids(job) == ids(fake_unsplash, range(5))


def test_the_fake_unsplash_answers_rate_limit_exceeded_past_its_own_limit(fake_unsplash, settings):
    # Someone else used the key: Unsplash's count runs out before ours does.
    fake_unsplash.limit, fake_unsplash.used = 10, 10

    job = run(unsplash_job(5))

    assert job.status == Status.PAUSED
    assert len(fake_unsplash.api_requests()) == 1


# Answers that stop the job


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (401, {"errors": ["OAuth error: The access token is invalid"]}, "(401): {\"errors\": [\"OAuth error"),
        (403, {"errors": ["Forbidden: this application has been suspended"]}, "(403)"),
        (403, "Forbidden", "(403): Forbidden"),
    ],
    ids=["401", "403-json", "403-text"],
)
def test_a_refusal_that_is_not_the_rate_limit_fails_the_job_with_the_reason(fake_unsplash, enqueued, status, body, expected):
    fake_unsplash.fail_next("/search/photos", status, body)

    job = run(unsplash_job(5))

    assert job.status == Status.FAILED
    assert job.error.startswith(f"Unsplash refused the request ({status})")
    assert expected in job.error
    assert f"Stopped: Unsplash refused the request ({status})" in job.log
    assert job.finished_at is not None
    assert enqueued == []
    assert job.dataset.images.count() == 0


def test_a_wrong_access_key_fails_the_job(fake_unsplash, settings):
    settings.UNSPLASH_ACCESS_KEY = "not-the-key"

    job = run(unsplash_job(5))

    assert job.status == Status.FAILED
    assert "(401)" in job.error and "access token is invalid" in job.error


def test_no_access_key_fails_the_job_without_a_request(fake_unsplash, settings):
    settings.UNSPLASH_ACCESS_KEY = ""

    job = run(unsplash_job(5))

    assert job.status == Status.FAILED
    assert job.error == "No Unsplash access key: set UNSPLASH_ACCESS_KEY."
    assert fake_unsplash.requests == []


def test_a_5xx_is_retried_and_then_succeeds(fake_unsplash):
    fake_unsplash.fail_next("/search/photos", 503, "Service Unavailable")
    fake_unsplash.fail_next("/photos/", 502, "Bad Gateway")
    fake_unsplash.fail_next("/images/", 503, "Service Unavailable")

    job = run(unsplash_job(3))

    assert job.status == Status.SUCCEEDED, job.error
    assert [s.query["page"] for s in fake_unsplash.searches()] == ["1", "1"]
    assert fake_unsplash.tracked() == ids(fake_unsplash, [0, 0, 1, 2])
    assert kept_ids(job) == ids(fake_unsplash, range(3))
    # A retry is the same request again: one budget unit each.
    assert ApiBudget.objects.get(api=API).used == 4


def test_a_5xx_that_does_not_go_away_fails_the_job(fake_unsplash, settings):
    settings.UNSPLASH_RETRIES = 2
    fake_unsplash.fail_next("/search/photos", 500, "Internal Server Error", times=3)

    job = run(unsplash_job(3))

    assert job.status == Status.FAILED
    assert len(fake_unsplash.searches()) == 3  # the first try and 2 retries
    assert "Unsplash answered 500" in job.error


def test_unsplash_unreachable_fails_the_job_with_the_reason(fake_unsplash, settings):
    settings.UNSPLASH_API_URL = f"http://127.0.0.1:{free_port()}"

    job = run(unsplash_job(3))

    assert job.status == Status.FAILED
    assert job.error == "Unsplash could not be reached (ConnectionError)."
    assert job.dataset.images.count() == 0


def test_an_image_that_cannot_be_downloaded_is_recorded_and_the_job_goes_on(fake_unsplash):
    fake_unsplash.broken_images[fake_unsplash.photo_id(1)] = 404

    job = run(unsplash_job(3))

    assert job.status == Status.SUCCEEDED, job.error
    assert (job.kept, job.rejected) == (3, 1)
    assert kept_ids(job) == ids(fake_unsplash, [0, 2, 3])
    failed = job.dataset.images.get(source_id=fake_unsplash.photo_id(1))
    assert (failed.status, failed.rejection_reason) == ("rejected", Reason.DOWNLOAD_FAILED)
    assert "could not be downloaded" in failed.rejection_detail
    assert failed.attribution["photographer"] == "Ann Snapper 1"
    assert job.dataset.rejections() == {Reason.DOWNLOAD_FAILED: 1}


def test_an_image_over_the_size_limit_is_rejected(fake_unsplash, settings):
    settings.DATASET_MAX_BYTES = 1000
    fake_unsplash.photo_count = 3

    job = run(unsplash_job(2))

    assert job.status == Status.SUCCEEDED  # the search ran out: nothing could be kept
    assert (job.kept, job.rejected) == (0, 3)
    assert job.dataset.rejections() == {Reason.TOO_LARGE: 3}


# The command


def test_ingest_unsplash_command_reports_kept_and_rejected(fake_unsplash):
    fake_unsplash.broken_images[fake_unsplash.photo_id(0)] = 410
    out = StringIO()

    call_command("ingest_unsplash", query="cats", count=4, dataset="cats", stdout=out, stderr=StringIO())

    output = out.getvalue()
    assert "Created dataset cats." in output
    assert "4 kept, 1 rejected" in output and "succeeded" in output
    assert "rejected as download_failed: 1" in output
    dataset = Dataset.objects.get(name="cats")
    assert dataset.counts() == {"kept": 4, "trainable": 0, "benchmark": 0, "rejected": 1}
    assert fake_unsplash.searches()[0].query["query"] == "cats"


def test_ingest_unsplash_command_with_a_licence_basis_makes_trainable_photos(fake_unsplash):
    call_command(
        "ingest_unsplash", "--query", "dogs", "--count", "2", "--dataset", "dogs",
        "--licence-basis", "Unsplash+ licence, agreement 42", stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip

    assert Dataset.objects.get(name="dogs").counts() == {"kept": 2, "trainable": 2, "benchmark": 0, "rejected": 0}


def test_ingest_unsplash_command_says_when_it_paused(fake_unsplash, settings):
    settings.UNSPLASH_HOURLY_BUDGET = 3
    out = StringIO()

    call_command("ingest_unsplash", query="cats", count=5, dataset="cats", stdout=out, stderr=StringIO())

    assert "2 kept, 0 rejected" in out.getvalue()
    assert "Paused until" in out.getvalue() and "the etl worker continues it then" in out.getvalue()


def test_ingest_unsplash_command_fails_with_the_reason(fake_unsplash):
    fake_unsplash.fail_next("/search/photos", 401, {"errors": ["OAuth error: The access token is invalid"]})

    with pytest.raises(CommandError, match=r"Unsplash refused the request \(401\)"):
        call_command("ingest_unsplash", query="cats", count=5, dataset="cats", stdout=StringIO(), stderr=StringIO())
