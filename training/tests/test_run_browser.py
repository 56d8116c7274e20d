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


def test_the_models_page_fits_1366_px_and_its_wide_tables_scroll_on_their_own(
    live_server, chromium, benchmark, tiny_model_file, settings
):
    # As many models as the site has had, named as the site names them.
    names = ["srn-gopro", "nafnet-w16-synthetic-v1", "nafnet-run-12", "nafnet-run-13", "deblurgan-run-14"]
    for index, name in enumerate(names):
        model = register_model(tiny_model_file, name=name)
        figures = {"input_psnr": 24.1, "input_ssim": 0.78, "model_psnr": 26.0 + index, "model_ssim": 0.81, "seconds_per_megapixel": 1.5}
        model.metrics = {"mini": {**figures, "images": 2}}
        model.save()
    get_user_model().objects.create_user("root", "root@example.com", PASSWORD, is_staff=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/manage/models/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("#comparison")).to_contain_text("deblurgan-run-14")

    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # the page itself never scrolls sideways
    for table in ("#comparison", "#choice-figures"):
        shown = page.evaluate(
            """(selector) => {
                const table = document.querySelector(selector), box = table.parentElement;
                const edge = (element) => element.getBoundingClientRect().right;
                return {scroller: getComputedStyle(box).overflowX, focusable: box.tabIndex === 0,
                        table: table.scrollWidth, box: box.clientWidth, boxRight: box.getBoundingClientRect().right};
            }""",
            table,
        )
        # It fits the page's column; a wider one would scroll in its own box, by keyboard too.
        assert shown["table"] <= shown["box"] and shown["boxRight"] <= 1366, (table, shown)
        assert shown["scroller"] == "auto" and shown["focusable"], (table, shown)
    page.screenshot(path=SHOTS / "models-1366.png", full_page=True)
    context.close()
