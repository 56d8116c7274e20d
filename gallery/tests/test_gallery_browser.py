"""In headless Chromium: cancelling a running job under a real worker, the signal when a
job on an open page finishes, and the gallery grid: filter, select two cards, download
them as one ZIP. Screenshots of the grid at desktop and phone sizes."""

import threading
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD, SHOTS
from gallery import archive, jobs
from gallery.models import Archive, Restoration
from gallery.uploads import accept_photo

from .conftest import photo_bytes, succeed, succeeded_photo, upload

pytestmark = pytest.mark.django_db(transaction=True)

# Stands in for the browser's notifications, on every page load: the permission lasts
# the tab's session, and the test reads what the page showed.
FAKE_NOTIFICATIONS = """
window.shownNotifications = [];
window.Notification = class {
  static get permission() { return sessionStorage.getItem("fake-permission") || "default"; }
  static requestPermission() { sessionStorage.setItem("fake-permission", "granted"); return Promise.resolve("granted"); }
  constructor(title) { window.shownNotifications.push(title); }
};
"""


def test_cancel_a_running_job_then_the_done_signal_and_the_gallery_zip(
    live_server, active_model, worker, alice, browser_page, settings, monkeypatch, media_storage
):
    # Small tiles on a 640x480 photo, a little slowed: the job runs long enough to cancel.
    settings.INFERENCE_TILE, settings.INFERENCE_OVERLAP = 32, 8
    per_tile = jobs._ProgressWriter.__call__
    stopped_by_cancel = threading.Event()

    def slow_tile(self, fraction):
        threading.Event().wait(0.02)
        try:
            per_tile(self, fraction)
        except jobs.JobCancelled:
            stopped_by_cancel.set()
            raise

    monkeypatch.setattr(jobs._ProgressWriter, "__call__", slow_tile)
    succeeded_photo(alice, "harbour.jpg", size=(320, 240), seed=1, psnr_before=24.2, psnr_after=27.9, ssim_before=0.71, ssim_after=0.84)
    succeeded_photo(alice, "street.jpg", size=(320, 240), seed=2, choice="fast", blur_before=0.58, blur_after=0.33)
    succeeded_photo(alice, "shaky.jpg", size=(320, 240), seed=3, blur_before=0.66, blur_after=0.41)
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "enqueue", lambda restoration_id: None)  # no worker ever gets this one
        soon = accept_photo(alice, upload("soon.jpg", photo_bytes(size=(320, 240), blur=1.5)), original_name="soon.jpg")
    Restoration.objects.filter(photo=soon).update(queue="unserved")  # nor is it released on the workers' queues
    long = accept_photo(alice, upload("long.jpg", photo_bytes(size=(640, 480), blur=2.5)), original_name="long.jpg")

    page = browser_page
    page.context.add_init_script(FAKE_NOTIFICATIONS)
    page.goto(f"{live_server.url}/accounts/login/?next=/photos/{long.pk}/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")

    # Cancel while it runs: the worker stops at its next tile and keeps nothing.
    expect(page.locator("#progress-text")).to_have_text("Deblurring…", timeout=120_000)
    page.locator("#job-progress").screenshot(path=SHOTS / "20-job-box-running.png")
    page.click("#cancel-job")
    expect(page.locator("#job-status")).to_have_text("Cancelled")
    expect(page.locator("#job-cancelled")).to_be_visible()
    expect(page.locator("#result-image")).to_have_count(0)
    assert stopped_by_cancel.wait(30)
    job = Restoration.objects.get(photo=long)
    assert job.status == "cancelled" and 0 < job.attempts and not job.result
    assert not list((media_storage / "default").glob(f"results/{long.pk}*"))
    assert default_storage.exists(long.original.name)

    # A job that ends while its page is open: the tab's title and the notification asked for.
    page.goto(f"{live_server.url}/photos/{soon.pk}/")
    expect(page.locator("#progress-text")).to_contain_text("Waiting for a worker")
    page.click("#notify-me")
    expect(page.locator("#notify-me")).to_have_text("You will be notified")
    succeed(soon)
    expect(page.locator("#result-image")).to_be_visible()
    expect(page).to_have_title("✓ Done — soon.jpg")
    assert page.evaluate("window.shownNotifications") == ["✓ Done — soon.jpg"]

    # The gallery: filter, select two cards, one ZIP.
    page.goto(f"{live_server.url}/photos/")
    expect(page.locator("#history .card")).to_have_count(5)
    expect(page.locator("#history .card:has-text('long.jpg') .badge")).to_have_text("Cancelled")
    page.select_option("select[name=status]", "succeeded")
    expect(page).to_have_url(f"{live_server.url}/photos/?status=succeeded&model=&sort=newest")
    expect(page.locator("#history .card")).to_have_count(4)
    expect(page.locator("#history .card:has-text('harbour.jpg')")).to_contain_text("PSNR 24.2 → 27.9 dB")
    expect(page.locator("#history .card:has-text('street.jpg')")).to_contain_text("Blur 0.58 → 0.33")
    page.screenshot(path=SHOTS / "21-gallery-desktop.png", full_page=True)
    expect(page.locator("#download-selected")).to_be_disabled()
    for name in ("harbour.jpg", "street.jpg"):
        page.locator(f"#history .card:has-text('{name}') .select").click()
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    # The ZIP is built by the downloads worker (run here) while its page shows where it is.
    page.click("#download-selected")
    expect(page.locator("#archive h1")).to_have_text("ZIP of 2 photos")
    expect(page.locator("#archive-status")).to_have_text("Waiting for a worker…")
    archive.build(str(Archive.objects.get().pk))
    expect(page.locator("#archive-download")).to_be_visible(timeout=10_000)  # the page reloads itself
    page.screenshot(path=SHOTS / "21b-zip-ready.png", full_page=True)
    with page.expect_download() as download_info:
        page.click("#archive-download")
    download = download_info.value
    assert download.suggested_filename == f"deblur-{timezone.localdate().isoformat()}-2-photos.zip"
    with zipfile.ZipFile(Path(download.path())) as zipped:
        # The originals as uploaded, JPEGs.
        assert zipped.namelist() == ["street-deblurred.png", "street.jpg", "harbour-deblurred.png", "harbour.jpg"]

    # A phone: one column, tap targets of at least 44 px; the gallery links to the ZIP.
    page.goto(f"{live_server.url}/photos/")
    expect(page.locator(".archives")).to_contain_text(download.suggested_filename)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / "22-gallery-phone.png", full_page=True)
    boxes = [page.locator(f"#history .card >> nth={i}").bounding_box() for i in range(2)]
    assert boxes[0]["x"] == boxes[1]["x"] and boxes[0]["width"] > 300
    for target in ("#history .card .select >> nth=0", "#download-selected", "#delete-selected", "select[name=sort]"):
        box = page.locator(target).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, target
