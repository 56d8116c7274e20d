"""The photo page's viewer in headless Chromium, on a succeeded job made directly in the
database (no worker): the split, zoom at 1:1 with both sides panned together, holding
to see the original, the reference view, and the strength, live and in the download.

The original is dark noise and the result its negative (bright), so every pixel on the
screen says which image, or which blend of the two, it shows."""

import io
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect
from PIL import Image

from conftest import SHOTS
from gallery import blends, downloads, results
from gallery.models import Restoration
from gallery.uploads import accept_photo
from inference.images import encode_png

from .conftest import result_files
from .test_strength_rerun import expected_blend, finished_photo

pytestmark = pytest.mark.django_db(transaction=True)

# Wider than the 1600 px previews: zoomed to 100 %, the viewer must switch to the full files.
SIZE = (1700, 900)
PHONE = {"width": 390, "height": 844}


def screen(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(np.int16)


def box_of(page, selector: str) -> dict:
    return page.evaluate(f"(() => {{ const b = document.querySelector('{selector}').getBoundingClientRect(); "
                         "return {x: b.left, y: b.top, w: b.width, h: b.height}; })()")


def band(page, left: float, right: float) -> np.ndarray:
    """The stage's pixels on the screen between two fractions of its width, away from the labels."""
    page.evaluate("document.getElementById('viewer-stage').scrollIntoView({block: 'nearest'})")
    stage, shot = box_of(page, "#viewer-stage"), screen(page)
    x0, x1 = round(stage["x"] + left * stage["w"]), round(stage["x"] + right * stage["w"])
    y0, y1 = round(stage["y"] + 0.2 * stage["h"]), round(stage["y"] + 0.8 * stage["h"])
    return shot[y0:y1, x0:x1]


def test_viewer_split_zoom_pan_hold_reference_and_strength(
    live_server, chromium, browser_page, alice, media_storage, monkeypatch, render_requests
):
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: None)
    rng = np.random.default_rng(4)
    dark = rng.integers(0, 100, size=(SIZE[1], SIZE[0], 3), dtype=np.uint8)
    original, output = Image.fromarray(dark), Image.fromarray(255 - dark)
    reference = Image.fromarray(rng.integers(110, 146, size=dark.shape, dtype=np.uint8))
    photo = finished_photo(alice, original, output, reference=reference)
    queued = accept_photo(alice, io.BytesIO(encode_png(original.resize((400, 300)))), original_name="queued.png")
    client = Client()
    client.force_login(alice)
    session = [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    page = browser_page
    page.context.add_cookies(session)

    page.goto(live_server.url + reverse("gallery:detail", args=[photo.pk]))
    divider = page.locator("#viewer-divider")
    expect(divider).to_have_attribute("aria-valuenow", "50")
    page.wait_for_function("[...document.querySelectorAll('#viewer img:not([hidden])')].every(i => i.naturalWidth)")
    assert page.locator("#viewer a").count() == 0  # no image opens a raw file
    assert page.evaluate("document.getElementById('original-image').naturalWidth") == 1600  # the preview first
    stage = box_of(page, "#viewer-stage")
    assert band(page, 0.05, 0.45).mean() < 80 and band(page, 0.55, 0.95).mean() > 175
    page.screenshot(path=SHOTS / "viewer-desktop.png", full_page=True)

    # Drag the divider to a quarter, click at three quarters, then the keys.
    handle = box_of(page, "#viewer-divider .viewer-handle")
    page.mouse.move(handle["x"] + handle["w"] / 2, handle["y"] + handle["h"] / 2)
    page.mouse.down()
    page.mouse.move(stage["x"] + 0.25 * stage["w"], stage["y"] + stage["h"] / 2, steps=5)
    page.mouse.up()
    expect(divider).to_have_attribute("aria-valuenow", "25")
    assert band(page, 0.05, 0.22).mean() < 80 and band(page, 0.28, 0.95).mean() > 175
    page.mouse.click(stage["x"] + 0.75 * stage["w"], stage["y"] + stage["h"] / 2)
    expect(divider).to_have_attribute("aria-valuenow", "75")
    divider.focus()
    page.keyboard.press("End")
    expect(divider).to_have_attribute("aria-valuenow", "100")
    page.keyboard.press("Home")
    expect(divider).to_have_attribute("aria-valuenow", "0")
    for key in ("ArrowRight", "ArrowRight", "Shift+ArrowRight", "PageUp", "PageUp", "PageUp", "PageUp"):
        page.keyboard.press(key)
    expect(divider).to_have_attribute("aria-valuetext", "52 %: original on the left, result on the right")
    assert band(page, 0.05, 0.49).mean() < 80 and band(page, 0.55, 0.95).mean() > 175

    # 100 %: the full files, one image pixel per screen pixel, on both sides of the split.
    page.click("[data-zoom='1']")
    expect(page.locator("[data-zoom='1']")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#original-image")).to_have_attribute("data-state", "full")
    expect(page.locator("#result-image")).to_have_attribute("data-state", "full")
    expect(page.locator("#viewer-loading")).to_be_hidden()

    def assert_one_to_one() -> tuple[int, int]:
        """Screen pixels on each side of the split are the image pixels under them."""
        stage, image = box_of(page, "#viewer-stage"), box_of(page, "#original-image")
        assert box_of(page, "#result-image") == image  # both sides panned and zoomed together
        assert (round(image["w"]), round(image["h"])) == SIZE
        shot = screen(page)
        left, top = round(image["x"]), round(image["y"])
        split = round(stage["x"] + 0.52 * stage["w"])
        y0, y1 = round(stage["y"]) + 40, round(stage["y"] + stage["h"]) - 40
        for x0, x1, expected in ((round(stage["x"]) + 10, split - 30, dark), (split + 30, split + 300, 255 - dark)):
            shown = shot[y0:y1, x0:x1]
            assert np.abs(shown - expected[y0 - top : y1 - top, x0 - left : x1 - left]).mean() < 1.5
        return left, top

    centred = assert_one_to_one()
    page.screenshot(path=SHOTS / "viewer-desktop-100.png")
    # Pan with the arrow keys on the image, then by dragging: both sides move together.
    page.locator("#viewer-stage").focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    after_keys = assert_one_to_one()
    assert after_keys[0] > centred[0] and after_keys[1] > centred[1]
    stage = box_of(page, "#viewer-stage")
    page.mouse.move(stage["x"] + 200, stage["y"] + 200)
    page.mouse.down()
    page.mouse.move(stage["x"] + 100, stage["y"] + 150, steps=4)
    page.mouse.up()
    assert assert_one_to_one() == (after_keys[0] - 100, after_keys[1] - 50)
    expect(divider).to_have_attribute("aria-valuenow", "52")  # a drag that pans is no click

    # Hold O, then the button: the original alone while held.
    page.keyboard.down("o")
    assert band(page, 0.55, 0.95).mean() < 80
    page.keyboard.up("o")
    assert band(page, 0.55, 0.95).mean() > 175
    hold = box_of(page, "#hold-original")
    page.mouse.move(hold["x"] + 10, hold["y"] + 10)
    page.mouse.down()
    expect(page.locator("#hold-original")).to_have_attribute("aria-pressed", "true")
    assert band(page, 0.55, 0.95).mean() < 80
    page.mouse.up()
    assert band(page, 0.55, 0.95).mean() > 175

    # The sharp reference as the other side, loaded when asked for.
    page.locator("#viewer-view label", has_text="Reference").click()
    expect(page.locator("#reference-image")).to_have_attribute("data-state", "full")
    expect(page.locator("#after-label")).to_have_text("Reference")
    right = band(page, 0.6, 0.95)
    assert 120 < right.mean() < 136 and right.std() < 15
    page.locator("#viewer-view label", has_text="Result").click()

    # Strength: the blend changes live, is saved, and the download is that blend.
    page.keyboard.press("0")
    expect(page.locator("[data-zoom='fit']")).to_have_attribute("aria-pressed", "true")
    page.locator("#strength").fill("0.5")
    expect(page.locator("#strength-value")).to_have_text("50 %")
    expect(page.locator("#strength-status")).to_have_text("Not saved yet: downloads use 100 %.")
    right = band(page, 0.6, 0.95)
    assert 120 < right.mean() < 136 and right.std() < 6  # a negative over its original at half: mid-grey
    page.click("#strength-save")
    expect(page.locator("#strength-status")).to_have_text("Saved: downloads use 50 %.")
    expect(page.locator("#strength-used")).to_have_text("50 %")
    job = Restoration.objects.get(photo=photo)
    assert job.strength == 0.5 and render_requests == [job.pk]
    # The downloads worker has not rendered it yet: the page says so, then downloads it by itself.
    page.click("#download-png")
    expect(page.locator("h1")).to_have_text("Preparing your download")
    expect(page.get_by_role("status")).to_contain_text("The download at 50 % is being prepared")
    page.screenshot(path=SHOTS / "31b-download-preparing.png")
    with page.expect_download() as download_info:
        blends.render(job.pk)
    download = download_info.value
    assert download.suggested_filename == "street-deblurred.png"
    downloaded = np.asarray(Image.open(Path(download.path())))
    assert np.abs(downloaded - expected_blend(original, output, 0.5)).max() <= 1

    # Before the job is done: the original alone, and a placeholder of the photo's shape.
    page.goto(live_server.url + reverse("gallery:detail", args=[queued.pk]))
    placeholder = box_of(page, "#result-placeholder")
    assert abs(placeholder["w"] / placeholder["h"] - 400 / 300) < 0.02
    assert page.locator("#viewer-divider").count() == 0
    page.screenshot(path=SHOTS / "viewer-queued.png", full_page=True)

    phone = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)
    phone.add_cookies(session)
    mobile = phone.new_page()
    for shown, name in ((photo, "viewer-phone"), (queued, "viewer-phone-queued")):
        mobile.goto(live_server.url + reverse("gallery:detail", args=[shown.pk]))
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        mobile.screenshot(path=SHOTS / f"{name}.png", full_page=True)

    # Pinch to zoom, then pan with one finger: both sides follow.
    mobile.goto(live_server.url + reverse("gallery:detail", args=[photo.pk]))
    mobile.evaluate("document.getElementById('viewer-stage').scrollIntoView({block: 'nearest'})")
    cdp = phone.new_cdp_session(mobile)

    def touch(kind: str, *points: tuple[float, float]) -> None:
        touch_points = [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touch_points})

    stage = box_of(mobile, "#viewer-stage")
    fitted = box_of(mobile, "#original-image")
    cx, cy = stage["x"] + stage["w"] / 2, stage["y"] + stage["h"] / 2
    touch("touchStart", (cx - 20, cy), (cx + 20, cy))
    for step in range(1, 7):
        touch("touchMove", (cx - 20 - 10 * step, cy), (cx + 20 + 10 * step, cy))
    touch("touchEnd")
    pinched = box_of(mobile, "#original-image")
    assert pinched["w"] == pytest.approx(fitted["w"] * 4, rel=0.05) and box_of(mobile, "#result-image") == pinched
    touch("touchStart", (cx + 80, cy))  # off the divider, which is in the middle
    for step in range(1, 6):
        touch("touchMove", (cx + 80 - 10 * step, cy - 4 * step))
    touch("touchEnd")
    panned = box_of(mobile, "#original-image")
    assert (panned["x"] - pinched["x"], panned["y"] - pinched["y"]) == pytest.approx((-50, -20), abs=1)
    assert box_of(mobile, "#result-image") == panned
    expect(mobile.locator("#viewer-divider")).to_have_attribute("aria-valuenow", "50")
    mobile.screenshot(path=SHOTS / "viewer-phone-pinched.png")
    phone.close()


def pressed_zoom(page) -> list[str]:
    return page.evaluate("[...document.querySelectorAll('[data-zoom]')]"
                         ".filter(b => b.getAttribute('aria-pressed') === 'true').map(b => b.dataset.zoom)")


def test_the_zoom_keys_stop_at_the_buttons_levels_and_mark_them_and_the_wheel_zooms(
    live_server, chromium, alice, media_storage, monkeypatch
):
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: None)
    dark = np.random.default_rng(5).integers(0, 100, size=(1800, 2400, 3), dtype=np.uint8)
    photo = finished_photo(alice, Image.fromarray(dark), Image.fromarray(255 - dark))
    client = Client()
    client.force_login(alice)
    url = live_server.url + reverse("gallery:detail", args=[photo.pk])
    # Short enough that the photo page scrolls, then tall enough that it does not.
    for height, scrolls in ((900, True), (3000, False)):
        context = chromium.new_context(viewport={"width": 1280, "height": height})
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        page = context.new_page()
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollHeight > innerHeight") is scrolls
        if scrolls:
            page.locator("#viewer-stage").focus()
            steps = []
            for key in ("+", "+", "+", "+", "-", "-", "-", "-"):
                page.keyboard.press(key)
                steps.append(pressed_zoom(page))
            # Fit is about 45 % here: 50 %, 100 %, 200 %, 400 %, and back down to Fit.
            assert steps == [[], ["1"], ["2"], [], ["2"], ["1"], [], ["fit"]]

        page.evaluate("document.getElementById('viewer-stage').scrollIntoView({block: 'nearest'})")
        stage, fitted = box_of(page, "#viewer-stage"), box_of(page, "#original-image")
        scrolled = page.evaluate("scrollY")
        page.mouse.move(stage["x"] + stage["w"] / 2, stage["y"] + stage["h"] / 2)
        page.mouse.wheel(0, -100)  # one notch up
        page.wait_for_timeout(300)
        plain = box_of(page, "#original-image")["w"] / fitted["w"]
        if scrolls:  # the plain wheel is the page's
            assert plain == pytest.approx(1.0) and page.evaluate("scrollY") != scrolled
            page.evaluate("document.getElementById('viewer-stage').scrollIntoView({block: 'nearest'})")
            scrolled = page.evaluate("scrollY")
            page.keyboard.down("Control")
            page.mouse.wheel(0, -100)
            page.keyboard.up("Control")
            page.wait_for_timeout(300)
            assert box_of(page, "#original-image")["w"] / fitted["w"] == pytest.approx(1.5, rel=0.01)
            assert page.evaluate("scrollY") == scrolled
            page.screenshot(path=SHOTS / "viewer-ctrl-wheel.png")
        else:
            assert plain == pytest.approx(1.5, rel=0.01)
        context.close()



def test_two_results_of_one_photo_compared_with_the_slider_and_zoom(
    live_server, browser_page, alice, media_storage, monkeypatch, render_requests
):
    """Result against result: the photo is dark noise, its first result the negative (bright),
    its second a flat grey; each side of the split says by its brightness which it shows."""
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: None)
    dark = np.random.default_rng(5).integers(0, 100, size=(SIZE[1], SIZE[0], 3), dtype=np.uint8)
    original = Image.fromarray(dark)
    photo = finished_photo(alice, original, Image.fromarray(255 - dark))
    first, second = photo.restoration, results.add_run(photo, "shake")
    for field, (file_name, content) in result_files(second, original, np.full_like(dark, 128)).items():
        getattr(second, field).save(file_name, ContentFile(content), save=False)
    second.status, second.model_name, second.method, second.finished_at = "succeeded", "kernel-engine", "kernel", timezone.now()
    second.save()
    downloads.save_strength(second, 0.5)  # the current result's strength, not a comparison's
    client = Client()
    client.force_login(alice)
    page = browser_page
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])

    page.goto(live_server.url + reverse("gallery:detail", args=[photo.pk]))
    page.wait_for_function("[...document.querySelectorAll('#viewer img:not([hidden])')].every(i => i.naturalWidth)")
    # At first the photo against its current result, blended at the saved 50 %.
    expect(page.locator("#after-label")).to_have_text("Deblurred · 50 %")
    assert band(page, 0.05, 0.45).mean() < 80 and 80 < band(page, 0.55, 0.95).mean() < 120

    page.locator("#compare-left").select_option(str(first.pk))
    page.wait_for_function("document.getElementById('original-image').complete")
    expect(page.locator(".viewer-label.before")).to_have_text("Result 1")
    expect(page.locator("#after-label")).to_have_text("Result 2 · 100 %")
    expect(page.locator("#hold-original")).to_have_text("Hold to see result 1")
    expect(page.locator("#viewer-divider")).to_have_attribute("aria-valuetext", "50 %: Result 1 on the left, result 2 on the right")
    page.wait_for_timeout(200)
    assert band(page, 0.05, 0.45).mean() > 175 and abs(band(page, 0.55, 0.95).mean() - 128) < 4

    # The same split and zoom: the divider moved, then 100 % loads both results' full files.
    page.locator("#viewer-divider").focus()
    page.keyboard.press("Home")
    assert abs(band(page, 0.05, 0.95).mean() - 128) < 4
    page.keyboard.press("End")
    assert band(page, 0.05, 0.95).mean() > 175
    for _ in range(5):
        page.keyboard.press("PageDown")  # back to 50 %
    page.locator("[data-zoom='1']").click()
    expect(page.locator("#original-image")).to_have_attribute("data-state", "full")
    expect(page.locator("#result-image")).to_have_attribute("data-state", "full")
    assert box_of(page, "#result-image") == box_of(page, "#original-image")
    assert page.evaluate("document.getElementById('original-image').getAttribute('src')").endswith(f"/results/{first.pk}/files/output")
    page.locator("[data-zoom='fit']").click()
    page.screenshot(path=SHOTS / "compare-two-results.png", full_page=True)

    # Back to the photo on the left: the saved strength applies again.
    page.locator("#compare-left").select_option("photo")
    expect(page.locator("#after-label")).to_have_text("Result 2 · 50 %")
    expect(page.locator("#hold-original")).to_have_text("Hold to see the original")
