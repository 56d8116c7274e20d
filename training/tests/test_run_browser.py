"""A staff member trains a model from the pages, in headless Chromium against a live server
and a real `train` worker: start a tiny run, watch it, stop it, resume it, see it finish
with a registered model and its benchmark row. Screenshots land in test-artifacts/screenshots/."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from conftest import PASSWORD, SHOTS
from deblursite.celery import app
from inference.registry import register_model
from training.models import TrainingRun
from training.tests.test_runs import benchmark, photos  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def train_worker(settings):
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    with start_worker(app, perform_ping_check=False, queues=["train"], shutdown_timeout=60):
        yield


def test_a_tiny_run_is_started_watched_stopped_resumed_and_finished(
    live_server, photos, benchmark, train_worker, browser_page, settings, tiny_model_file
):
    settings.TRAINING_JIT_COMPILE = False
    # Fine-tuning a small registered model: a run of a few hundred steps in about a minute.
    register_model(tiny_model_file, name="small-nafnet")
    get_user_model().objects.create_user("root", "root@example.com", PASSWORD, is_staff=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/?next=/manage/runs/new/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")

    page.check("input[name=datasets][value='%d']" % photos.pk)
    page.fill("input[name=label]", "tiny from the page")
    page.select_option("select[name=init_model]", label="small-nafnet")
    page.fill("input[name=steps]", "200")
    page.fill("input[name=batch]", "2")
    page.fill("input[name=patch]", "32")
    expect(page.locator("#estimate")).to_contain_text("of training")
    page.screenshot(path=SHOTS / "run-01-new.png", full_page=True)
    page.click("#run-form button[type=submit]")

    expect(page.locator("#run-status")).to_have_text("Running", timeout=60_000)
    expect(page.locator("#best")).to_contain_text("PSNR", timeout=60_000)
    page.click("#stop")
    expect(page.locator("#run-status")).to_have_text("Stopped", timeout=60_000)
    run = TrainingRun.objects.get()
    assert 0 < run.step < 200 and f"Stopped at step {run.step};" in run.log
    page.screenshot(path=SHOTS / "run-02-stopped.png", full_page=True)

    page.click("#resume")
    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=180_000)
    expect(page.locator("#samples img")).to_have_count(4)
    page.screenshot(path=SHOTS / "run-03-done.png", full_page=True)
    run.refresh_from_db()
    assert run.step == 200 and "from its checkpoint at step" in run.log

    page.click("#model a")
    expect(page.locator("#model-card")).to_contain_text("| mini |")
    page.goto(f"{live_server.url}/manage/models/")
    expect(page.locator("#comparison")).to_contain_text(run.model.name)
    # Input, baseline, then the models newest first: the run's model was scored on the benchmark.
    cells = page.locator("#comparison tr:has-text('mini') td")
    expect(cells).to_have_count(4)
    expect(cells.nth(2)).to_contain_text("s/MP")
    expect(cells.nth(3)).to_have_text("not scored")
    page.screenshot(path=SHOTS / "run-04-models.png", full_page=True)
