"""Every page a user sees, scanned by axe-core (installed from npm by `make test`) in
headless Chromium: at desktop size, and at phone size in the dark colour scheme. No
violation of serious or critical impact is allowed. Photos in each state are made
directly in the database, with real image files in storage: no worker runs."""

import io
from datetime import timedelta

import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from conftest import SHOTS
from gallery import jobs, results
from gallery.models import Photo, Restoration
from gallery.tests.conftest import photo_bytes, result_files, upload
from gallery.uploads import accept_photo
from inference.models import ModelVersion

pytestmark = pytest.mark.django_db(transaction=True)

AXE = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
BLOCKING = {"serious", "critical"}
# Controls a finger must hit on a phone: at least 44 x 44 CSS pixels.
TAP_TARGETS = (
    ".topbar a, .topbar button, main button:not([hidden]), main a.button, main select, main textarea,"
    " main input:not([type=hidden], [type=checkbox], [type=radio], [type=range], .visually-hidden)"
)
SMALL_TAP_TARGETS = """selector => [...document.querySelectorAll(selector)]
    .filter(el => el.getClientRects().length)
    .map(el => [el, el.getBoundingClientRect()])
    .filter(([, box]) => box.width < 43.5 || box.height < 43.5)
    .map(([el, box]) => `${el.outerHTML.slice(0, 80)} is ${Math.round(box.width)}x${Math.round(box.height)}`)"""


def serve_models() -> None:
    for choice in ("best", "fast"):
        version = ModelVersion.objects.create(
            name=f"tiny-{choice}", file=f"models/tiny-{choice}.keras", architecture="nafnet", parameter_count=1000
        )
        version.promote(choice)


def new_photo(user, name: str, *, reference: bool = False) -> Photo:
    sharp = io.BytesIO(photo_bytes(fmt="PNG", seed=7)) if reference else None
    return accept_photo(user, upload(name, photo_bytes(seed=7, blur=1.5)), original_name=name, reference=sharp)


def succeed(photo: Photo) -> None:
    """What a worker records for a finished job, with the original as its "result"."""
    job = photo.restoration
    with photo.original.open("rb") as file:
        image = Image.open(file).convert("RGB")
    names = {}
    for field, (name, content) in result_files(job, image, np.asarray(image)).items():
        names[field] = default_storage.save(name, ContentFile(content))
    version = ModelVersion.serving("best")
    figures = {"psnr_before": 24.1, "psnr_after": 27.8, "ssim_before": 0.71, "ssim_after": 0.83}
    figures |= {"blur_before": 0.62, "blur_after": 0.31}
    now = timezone.now()
    Restoration.objects.filter(pk=job.pk).update(
        status=Restoration.Status.SUCCEEDED, progress=1.0, model_version=version, model_name=version.name,
        started_at=now - timedelta(seconds=3), finished_at=now, **figures, **names,
    )


def fail(photo: Photo) -> None:
    error = "Deblurring failed (ValueError). The error was logged; you can retry."
    Restoration.objects.filter(pk=photo.restoration.pk).update(
        status=Restoration.Status.FAILED, error=error, finished_at=timezone.now()
    )


def describe(violation: dict) -> str:
    """An axe violation as the fix needs it: the rule, and each element with what is wrong."""
    nodes = (f"    {node['target']}: {node['html'][:160]}\n      {node['failureSummary']}" for node in violation["nodes"])
    head = f"{violation['impact']} {violation['id']}: {violation['help']} ({violation['helpUrl']})"
    return "\n".join([head, *nodes])


def problems(page, url: str, label: str, shot: str) -> list[str]:
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run()).violations")
    found = [f"{label} {url}: {describe(v)}" for v in violations if v["impact"] in BLOCKING]
    if page.viewport_size == PHONE:
        found += [f"{label} {url}: small tap target: {small}" for small in page.evaluate(SMALL_TAP_TARGETS, TAP_TARGETS)]
        if (width := page.evaluate("document.documentElement.scrollWidth")) > PHONE["width"]:
            found.append(f"{label} {url}: the page is {width} px wide, so it scrolls sideways on a phone")
        page.screenshot(path=SHOTS / f"a11y-{shot}-phone.png", full_page=True)
    return found


def test_no_serious_accessibility_violations_on_any_page(
    live_server, chromium, browser_page, alice, media_storage, monkeypatch
):
    assert AXE.exists(), "axe-core is missing: run `make test` (npm ci) first"
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: None)
    serve_models()
    phone_context = chromium.new_context(viewport=PHONE, color_scheme="dark")
    pages = {"desktop": browser_page, "phone, dark": phone_context.new_page()}
    found: list[str] = []

    def scan(shot: str, path: str) -> None:
        for label, page in pages.items():
            found.extend(problems(page, live_server.url + path, label, shot))

    # The skip link is the first thing the keyboard reaches, and shows when it does.
    browser_page.goto(live_server.url + "/")
    browser_page.keyboard.press("Tab")
    skip = browser_page.locator(".skip-link")
    assert browser_page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert skip.bounding_box()["y"] >= 0 and skip.is_visible()

    # The samples anyone may look at: on the home page, and each in the viewer.
    from gallery.tests.test_samples import made_and_deblurred

    made_and_deblurred()
    for shot, path in [
        ("home", "/"),
        ("sample", reverse("gallery:sample", args=["chelsea"])),
        ("login", reverse("login")),
        ("signup", reverse("signup")),
        ("password-reset", reverse("password_reset")),
        ("password-reset-done", reverse("password_reset_done")),
        ("404", "/no/such/page/"),
    ]:
        scan(shot, path)

    client = Client()
    client.force_login(alice)
    session = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    for page in pages.values():
        page.context.add_cookies([session])
    scan("history-empty", reverse("gallery:history"))

    queued = new_photo(alice, "queued.jpg")
    succeeded = new_photo(alice, "succeeded.jpg", reference=True)
    succeed(succeeded)
    failed = new_photo(alice, "failed.jpg")
    fail(failed)
    cancelled = new_photo(alice, "cancelled.jpg")
    Restoration.objects.filter(photo=cancelled).update(status=Restoration.Status.CANCELLED)
    # Two results: the list of results and the viewer's compare menus.
    compared = new_photo(alice, "compared.jpg", reference=True)
    succeed(compared)
    results.add_run(compared, "shake")
    succeed(compared)
    # Camera shake, run for real: the verdict, the method and the kernel's drawing.
    from gallery.tests.test_auto import png, scene, shaken

    shake = accept_photo(alice, upload("shaken.png", png(shaken(scene())), "image/png"), original_name="shaken.png", choice="shake")
    jobs.run(shake.restoration.pk)
    assert Restoration.objects.get(photo=shake).kernel_image
    not_improved = new_photo(alice, "not-improved.jpg")
    succeed(not_improved)
    Restoration.objects.filter(photo=not_improved).update(
        choice="auto", method="none", verdict="not-improved", model_name="",
        verdict_reason="We could not improve this photo: the blur we estimated is probably wrong. It was left as it was.",
        decision="The photo shows one blur everywhere: the kernel engine handles that best.",
    )  # fmt: skip
    for shot, path in [
        ("upload", reverse("gallery:upload")),
        ("try-it", reverse("gallery:try-it")),
        ("history", reverse("gallery:history")),
        ("photo-queued", reverse("gallery:detail", args=[queued.pk])),
        ("photo-succeeded", reverse("gallery:detail", args=[succeeded.pk])),
        ("photo-two-results", reverse("gallery:detail", args=[compared.pk])),
        ("photo-failed", reverse("gallery:detail", args=[failed.pk])),
        ("photo-cancelled", reverse("gallery:detail", args=[cancelled.pk])),
        ("photo-camera-shake", reverse("gallery:detail", args=[shake.pk])),
        ("photo-not-improved", reverse("gallery:detail", args=[not_improved.pk])),
        ("profile", reverse("profile")),
        ("delete-account", reverse("delete-account")),
        ("password-change", reverse("password_change")),
        ("403", reverse("training:datasets")),
    ]:
        scan(shot, path)
    phone_context.close()

    assert not found, f"{len(found)} accessibility problems:\n" + "\n".join(found)
