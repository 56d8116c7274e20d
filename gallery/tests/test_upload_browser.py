"""The upload page's script in headless Chromium: photos dropped on the page, a reference
paired by name, a file refused before sending, per-photo progress, a bad reference marked on
its card and fixed there. No worker runs: the jobs stay queued."""

import base64
import re

import pytest
from playwright.sync_api import expect

from conftest import SHOTS
from gallery.models import Photo

from .conftest import photo_bytes

pytestmark = pytest.mark.django_db(transaction=True)

# Builds File objects from base64 in the page and fires a drag event carrying them.
FIRE = """([type, files]) => {
  const data = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], f.name, { type: f.type }));
  }
  const init = { bubbles: true, cancelable: true };
  const event = type === "paste" ? new ClipboardEvent("paste", { ...init, clipboardData: data })
                                 : new DragEvent(type, { ...init, dataTransfer: data });
  document.querySelector("main").dispatchEvent(event);
}"""


def as_file(name: str, content: bytes, media_type: str) -> dict:
    return {"name": name, "data": base64.b64encode(content).decode(), "type": media_type}


def card(page, name: str):
    return page.locator(".upload-card", has=page.locator(".upload-name strong", has_text=re.compile(f"^{re.escape(name)}$")))


def test_drop_pair_refuse_send_and_fix_a_bad_reference(live_server, client, alice, browser_page, settings, media_storage):
    files = {
        "street.jpg": photo_bytes(size=(320, 240), blur=2, seed=1),
        "Street-sharp.png": photo_bytes(size=(320, 240), fmt="PNG", seed=1),
        "shaky.jpg": photo_bytes(size=(200, 150), blur=1.5, seed=2),
        "shaky_SHARP.png": photo_bytes(size=(100, 75), fmt="PNG", seed=2),  # not the photo's size
        "big.png": photo_bytes(size=(640, 480), fmt="PNG", seed=3),
    }
    settings.UPLOAD_MAX_BYTES = 400 * 1024
    assert len(files["big.png"]) > settings.UPLOAD_MAX_BYTES > max(len(v) for k, v in files.items() if k != "big.png")
    client.force_login(alice)
    page = browser_page
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page.goto(f"{live_server.url}/photos/upload/")
    dropped = [as_file(name, content, "image/png" if name.endswith(".png") else "image/jpeg") for name, content in files.items()]

    page.evaluate(FIRE, ["dragenter", dropped[:1]])
    expect(page.locator("#drop-overlay")).to_be_visible()
    page.evaluate(FIRE, ["drop", dropped])
    expect(page.locator("#drop-overlay")).to_be_hidden()
    expect(page.locator("#upload-status")).to_have_text(
        "Added 3 photos and 2 sharp references paired by name; 1 cannot be sent (see its card)."
    )
    page.evaluate(FIRE, ["paste", [as_file("image.png", files["Street-sharp.png"], "image/png")]])

    expect(page.locator(".upload-card")).to_have_count(4)
    expect(card(page, "street.jpg")).to_contain_text("Sharp reference: Street-sharp.png")
    expect(card(page, "street.jpg")).to_contain_text("paired by name")
    expect(card(page, "shaky.jpg")).to_contain_text("Sharp reference: shaky_SHARP.png")
    expect(card(page, "big.png")).to_have_attribute("data-state", "refused")
    expect(card(page, "big.png")).to_contain_text("The file is 673 KB, larger than the 400 KB limit.")
    pasted = page.locator(".upload-name strong", has_text=re.compile(r"^pasted-\d{4}-\d\d-\d\d-\d{4}\.png$"))
    expect(pasted).to_have_count(1)
    page.locator(".upload-card:has(.upload-name strong:text-matches('^pasted-')) .upload-remove").click()
    expect(page.locator(".upload-card")).to_have_count(3)
    expect(page.locator(".upload-card img.upload-thumb")).to_have_count(3)
    assert page.locator(".upload-card img.upload-thumb").evaluate_all("imgs => imgs.every(i => i.naturalWidth > 0)")
    expect(card(page, "street.jpg")).to_contain_text("320×240")
    box = card(page, "shaky.jpg").locator(".upload-remove").bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44

    page.click("#upload-button")
    expect(card(page, "street.jpg")).to_have_attribute("data-state", "queued")
    expect(card(page, "street.jpg").locator("progress")).to_have_attribute("value", "100")
    expect(card(page, "shaky.jpg")).to_have_attribute("data-state", "failed")
    expect(card(page, "shaky.jpg")).to_contain_text(
        "Reference refused: The sharp reference must be the same size as the photo (200×150); it is 100×75."
    )
    expect(card(page, "big.png")).to_contain_text("Not sent")
    expect(page.locator("#upload-status")).to_contain_text("1 photo queued. 1 not: fix or remove it below")
    street = Photo.objects.get(original_name="street.jpg")
    assert street.reference and street.restoration.enqueued_at is not None
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays at the top of a full-page shot
    page.screenshot(path=SHOTS / "upload-cards-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SHOTS / "upload-cards-phone.png", full_page=True)

    # The fix: another reference on the refused card; the other cards are as they were.
    page.set_input_files(f"#{card(page, 'shaky.jpg').locator('input[type=file]').get_attribute('id')}", files=[
        {"name": "shaky-good.png", "mimeType": "image/png", "buffer": photo_bytes(size=(200, 150), fmt="PNG", seed=2)}
    ])
    expect(card(page, "shaky.jpg")).to_have_attribute("data-state", "ready")
    page.click("#upload-button")

    expect(page).to_have_url(f"{live_server.url}/photos/")
    expect(page.locator(".message.success")).to_have_text("2 photos queued for deblurring.")
    photos = {photo.original_name: photo for photo in Photo.objects.filter(owner=alice)}
    assert sorted(photos) == ["shaky.jpg", "street.jpg"]
    assert all(photo.reference for photo in photos.values())


@pytest.mark.parametrize(
    ("device", "said", "unsaid", "empty"),
    [
        ({}, ["Drop photos", "Ctrl+V", "Choose photos"], ["take"], "Choose, drop or paste at least one photo first."),
        (
            {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2},
            ["take a photo with the camera", "Choose or take photos"],
            ["Drop", "paste", "Ctrl"],
            "Choose or take at least one photo first.",
        ),
    ],
    ids=["desktop", "phone"],
)
def test_the_upload_page_speaks_of_what_the_device_can_do(live_server, client, alice, chromium, device, said, unsaid, empty):
    client.force_login(alice)
    context = chromium.new_context(**{"viewport": {"width": 1280, "height": 900}, **device})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/photos/upload/")

    shown = page.locator("#drop-zone").inner_text()
    assert all(words in shown for words in said) and not any(words in shown for words in unsaid), shown
    page.click("#upload-button")
    expect(page.locator("#upload-status")).to_have_text(empty)
    # Not full-page: that shot resizes the page, and Chromium then drops the touch emulation.
    page.locator("#drop-zone").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / f"upload-{'phone' if device else 'desktop'}-words.png")
    context.close()
