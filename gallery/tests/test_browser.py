"""The whole path a person takes, in headless Chromium: sign up, upload several
photos, watch progress, compare, download, delete; and the choices: Best quality and Fast
name their model, Camera shake shows its verdict and the blur it found.
Screenshots land in test-artifacts/screenshots/ for a human to look at."""

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from conftest import PASSWORD, SHOTS

from .conftest import photo_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_upload_compare_download_delete(live_server, active_model, worker, browser_page, settings, tmp_path):
    # Small tiles on a larger photo: the job runs long enough to watch its progress.
    settings.INFERENCE_TILE, settings.INFERENCE_OVERLAP = 32, 8
    street = tmp_path / "street.jpg"
    street.write_bytes(photo_bytes(size=(640, 480), blur=2.5, seed=3))
    sharp = tmp_path / "street-sharp.png"
    sharp.write_bytes(photo_bytes(size=(640, 480), fmt="PNG", seed=3))
    shaky = tmp_path / "shaky.png"
    shaky.write_bytes(photo_bytes(size=(200, 150), fmt="PNG", blur=1.5, seed=4))
    page = browser_page

    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=username]", "carol")
    page.fill("input[name=email]", "carol@example.com")
    page.fill("input[name=password1]", "a long and unusual passphrase 42")
    page.fill("input[name=password2]", "a long and unusual passphrase 42")
    page.screenshot(path=SHOTS / "01-signup.png")
    page.click("form button[type=submit], form input[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/photos/")

    page.goto(f"{live_server.url}/photos/upload/")
    page.set_input_files("input[name=images]", [str(shaky), str(street)])
    expect(page.locator("input[name=reference_1]")).to_be_attached()
    page.set_input_files("input[name=reference_1]", str(sharp))
    # Best quality's network in small tiles: a job long enough to watch (Auto, the default, is quicker).
    expect(page.locator("input[name=model][value=auto]")).to_be_checked()
    page.check("input[name=model][value=best]")
    page.screenshot(path=SHOTS / "02-upload.png", full_page=True)
    page.click("#upload-form button[type=submit]")

    expect(page).to_have_url(f"{live_server.url}/photos/")
    expect(page.locator("#history .card")).to_have_count(2)
    expect(page.locator(".message.success")).to_contain_text("2 photos queued")
    # The badges follow the jobs without a reload.
    expect(page.locator("#history .card:has-text('shaky.png') .badge[role=status]")).to_have_text("Succeeded", timeout=120_000)

    page.click("#history .card:has-text('street.jpg') a >> nth=0")
    expect(page.locator("#job-progress progress")).to_be_visible()
    expect(page.locator("#progress-text")).to_contain_text("Deblurring", timeout=120_000)
    page.screenshot(path=SHOTS / "03-progress.png", full_page=True)
    expect(page.locator("#result-image")).to_be_visible(timeout=180_000)
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    expect(page.locator("#metrics")).to_contain_text("PSNR vs reference")
    page.screenshot(path=SHOTS / "04-comparison.png", full_page=True)

    with page.expect_download() as download_info:
        page.click("#download-png")
    download = download_info.value
    assert download.suggested_filename == "street-deblurred.png"
    assert Image.open(io.BytesIO(Path(download.path()).read_bytes())).size == (640, 480)
    with page.expect_download() as download_info:
        page.click("#download-jpeg")
    assert download_info.value.suggested_filename == "street-deblurred.jpg"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-form button")
    expect(page).to_have_url(f"{live_server.url}/photos/")
    expect(page.locator(".message.success")).to_contain_text("Deleted street.jpg")
    expect(page.locator("#history .card")).to_have_count(1)
    page.click("#history .card a >> nth=0")
    expect(page.locator("#result-image")).to_be_visible(timeout=120_000)
    expect(page.locator("#no-psnr")).to_be_visible()
    page.screenshot(path=SHOTS / "05-no-reference.png", full_page=True)
    page.goto(f"{live_server.url}/photos/")
    page.screenshot(path=SHOTS / "06-history.png", full_page=True)


def test_best_quality_and_fast_results_name_the_model_that_made_them_and_camera_shake_shows_its_kernel(
    live_server, two_models, alice, worker, browser_page, tmp_path
):
    from .test_auto import png, scene, shaken

    photo = tmp_path / "street.jpg"
    photo.write_bytes(photo_bytes(size=(320, 240), blur=2.0, seed=5))
    shaky = tmp_path / "shaky.png"
    shaky.write_bytes(png(shaken(scene())))
    page = browser_page

    page.goto(f"{live_server.url}/accounts/login/?next=/photos/upload/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/photos/upload/")
    expect(page.locator("#model-choice")).to_contain_text("tiny-best")
    expect(page.locator("#model-choice")).to_contain_text("tiny-fast")

    for choice, label, shot in (("best", "Best quality", "07-best-quality"), ("fast", "Fast", "08-fast")):
        page.goto(f"{live_server.url}/photos/upload/")
        expect(page.locator("input[name=model][value=auto]")).to_be_checked()  # the default
        page.check(f"input[name=model][value={choice}]")
        page.set_input_files("input[name=images]", str(photo))
        page.screenshot(path=SHOTS / f"{shot}-upload.png", full_page=True)
        page.click("#upload-form button[type=submit]")
        expect(page).to_have_url(f"{live_server.url}/photos/")
        page.click("#history .card >> nth=0 >> a >> nth=0")
        expect(page.locator("#result-image")).to_be_visible(timeout=120_000)
        expect(page.locator("#model")).to_have_text(f"{label}: tiny-{choice}")
        page.screenshot(path=SHOTS / f"{shot}-result.png", full_page=True)

    page.goto(f"{live_server.url}/photos/upload/")
    page.check("input[name=model][value=shake]")
    page.set_input_files("input[name=images]", str(shaky))
    page.click("#upload-form button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/photos/")
    page.click("#history .card >> nth=0 >> a >> nth=0")
    expect(page.locator("#result-image")).to_be_visible(timeout=120_000)
    expect(page.locator("#verdict")).to_have_text("Sharper")
    expect(page.locator("#method")).to_have_text("Kernel estimation and deconvolution")
    expect(page.locator("#kernel figcaption")).to_contain_text("The blur we found: the camera’s path,")
    kernel = page.locator("#kernel img")
    assert "pixels across" in kernel.get_attribute("alt")
    # the result page shows before the kernel's picture has arrived: wait for it, then check it drew
    expect(kernel).to_have_js_property("complete", True)
    assert kernel.evaluate("img => img.naturalWidth") > 100
    page.screenshot(path=SHOTS / "09-camera-shake-result.png", full_page=True)

    page.goto(f"{live_server.url}/photos/")
    expect(page.locator("#history .card >> nth=0")).to_contain_text("Camera shake: kernel-engine")
    expect(page.locator("#history .card >> nth=0 >> .badge.verdict")).to_have_text("Sharper")
    expect(page.locator("#history .card >> nth=1")).to_contain_text("Fast: tiny-fast")
    expect(page.locator("#history .card >> nth=2")).to_contain_text("Best quality: tiny-best")
    page.screenshot(path=SHOTS / "10-history-models.png", full_page=True)
