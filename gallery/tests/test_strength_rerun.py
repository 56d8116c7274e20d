"""The saved strength (downloads are the original and the model's full output blended at
it, rendered once by the downloads worker, on the site and in the API) and running a
finished photo again with another model choice."""

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from gallery import blends, downloads, jobs, results
from gallery.models import Photo, Restoration
from gallery.uploads import accept_photo
from inference.images import encode_png

from .conftest import photo_bytes, result_files, upload


def noise(size: tuple[int, int], seed: int, low: int = 0, high: int = 256) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(low, high, size=(size[1], size[0], 3), dtype=np.uint8), "RGB")


def finished_photo(user, original: Image.Image, output: Image.Image, *, reference: Image.Image | None = None,
                   choice: str = "best", name: str = "street.png") -> Photo:
    """A succeeded job made without the model: `output` is stored as its full-strength
    result, with every derived file, as the worker stores one."""
    photo = accept_photo(
        user,
        io.BytesIO(encode_png(original)),
        original_name=name,
        reference=io.BytesIO(encode_png(reference)) if reference is not None else None,
        choice=choice,
    )
    job = photo.restoration
    for field, (file_name, content) in result_files(job, original, np.asarray(output)).items():
        getattr(job, field).save(file_name, ContentFile(content), save=False)
    job.status, job.progress, job.model_name = Restoration.Status.SUCCEEDED, 1.0, "tiny-test"
    job.blur_before, job.blur_after = 0.6, 0.3
    job.started_at = job.finished_at = timezone.now()
    job.save()
    return Photo.objects.select_related("restoration").get(pk=photo.pk)


def expected_blend(original: Image.Image, output: Image.Image, strength: float) -> np.ndarray:
    before = np.asarray(original).astype(np.float64)
    return np.clip(np.rint(before + strength * (np.asarray(output) - before)), 0, 255)


def image_of(response) -> Image.Image:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def mean_error(image: Image.Image, expected: np.ndarray) -> float:
    return float(np.abs(np.asarray(image.convert("RGB")).astype(np.float64) - expected).mean())


def max_error(image: Image.Image, expected: np.ndarray) -> float:
    # 1 at most where a rounding of x.5 went the other way.
    return float(np.abs(np.asarray(image.convert("RGB")).astype(np.float64) - expected).max())


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: sent.append(restoration_id))
    return sent


@pytest.fixture
def pair() -> tuple[Image.Image, Image.Image]:
    """A photo-like original and an output that differs from it nearly everywhere, so any blend shows."""
    original = Image.open(io.BytesIO(photo_bytes(fmt="PNG"))).convert("RGB")
    return original, Image.fromarray(255 - np.asarray(original))


@pytest.fixture
def both_served(media_storage, tiny_model_file):
    from inference.registry import register_model

    return register_model(tiny_model_file, name="tiny-test", serve=["best", "fast"])


def test_blend_is_the_engines_per_pixel_linear_blend_and_keeps_alpha():
    original, output = noise((40, 30), seed=2), noise((40, 30), seed=3)
    assert np.array_equal(np.asarray(blends.blend(original, output, 0.3)), expected_blend(original, output, 0.3))

    alpha = Image.fromarray(np.full((30, 40), 77, np.uint8))
    with_alpha = [image.convert("RGBA") for image in (original, output)]
    for image in with_alpha:
        image.putalpha(alpha)
    blended = blends.blend(*with_alpha, 0.5)
    assert blended.mode == "RGBA" and np.all(np.asarray(blended)[..., 3] == 77)
    with pytest.raises(ValueError):
        blends.blend(original, output.resize((20, 30)), 0.5)


def test_every_download_format_applies_the_saved_strength(
    alice_client, alice, media_storage, pair, render_requests, django_capture_on_commit_callbacks
):
    original, output = pair
    photo = finished_photo(alice, original, output)

    url = reverse("gallery:strength", args=[photo.pk])
    with django_capture_on_commit_callbacks(execute=True):
        saved = alice_client.post(url, {"strength": "0.3"}, HTTP_ACCEPT="application/json")

    assert saved.status_code == 200 and saved.json() == {"strength": 0.3}
    assert Restoration.objects.get(photo=photo).strength == 0.3
    assert render_requests == [photo.restoration.pk]
    # Until the downloads worker has rendered it, the download says so and asks again by itself.
    pending = alice_client.get(reverse("gallery:file", args=[photo.pk, "result-png"]) + "?download=1")
    assert pending.status_code == 202 and pending["Retry-After"] == "2"
    assert "The download at 30 % is being prepared" in pending.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in pending.content.decode()

    blends.render(photo.restoration.pk)  # what the downloads worker does with the request

    expected = expected_blend(original, output, 0.3)
    for kind, fmt, tolerance in (("result-png", "PNG", 1), ("result-jpeg", "JPEG", 6), ("result-webp", "WEBP", 6)):
        response = alice_client.get(reverse("gallery:file", args=[photo.pk, kind]) + "?download=1")
        assert response.status_code == 200, kind
        assert response["Content-Disposition"].startswith('attachment; filename="street-deblurred.')
        image = image_of(response)
        error = max_error(image, expected) if fmt == "PNG" else mean_error(image, expected)
        assert image.format == fmt and error <= tolerance, kind
        # Far from the full output and from the original: it is the blend.
        assert mean_error(image, np.asarray(output)) > 30 and mean_error(image, np.asarray(original)) > 15
    # The viewer's full-resolution layer stays the full-strength output, to blend live.
    full = image_of(alice_client.get(reverse("gallery:file", args=[photo.pk, "output"])))
    assert np.array_equal(np.asarray(full), np.asarray(output))

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    assert '<strong id="strength-used">30 %</strong>' in page and 'value="0.30"' in page


def test_at_full_strength_downloads_are_the_stored_files(alice_client, alice, media_storage, pair):
    photo = finished_photo(alice, *pair)

    response = alice_client.get(reverse("gallery:file", args=[photo.pk, "result-webp"]) + "?download=1")

    with default_storage.open(photo.restoration.result_webp.name) as stored:
        assert b"".join(response.streaming_content) == stored.read()


def test_strength_is_validated_and_only_the_owner_saves_it(client, alice, bob, media_storage, pair):
    photo = finished_photo(alice, *pair)
    url = reverse("gallery:strength", args=[photo.pk])

    assert client.post(url, {"strength": "0.5"}).status_code == 302  # to the login page
    client.force_login(bob)
    assert client.post(url, {"strength": "0.5"}).status_code == 404
    client.force_login(alice)
    for bad in ("1.5", "-0.1", "nan", "inf", "lots", ""):
        response = client.post(url, {"strength": bad}, HTTP_ACCEPT="application/json")
        assert response.status_code == 400 and response.json()["errors"]["strength"], bad
    refused = client.post(url, {"strength": "2"}, follow=True)
    assert "less than or equal to 1" in refused.content.decode()
    assert client.get(url).status_code == 405
    assert Restoration.objects.get(photo=photo).strength == 1.0


def test_rerun_adds_a_result_queued_with_the_other_choice_and_keeps_the_first(
    alice_client, alice, both_served, pair, no_broker, django_capture_on_commit_callbacks
):
    photo = finished_photo(alice, *pair, choice="best")
    first = photo.restoration
    downloads.save_strength(first, 0.4)
    old_files = [file.name for file in first.stored_files()]
    assert len(old_files) == 5  # a network's result: no kernel
    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    assert "Run again with Fast" in page and "Run again with Best quality" not in page
    assert "Run again with Auto" in page and "Run again with Camera shake" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("gallery:rerun", args=[photo.pk]), {"model": "fast"}, follow=True)

    photo.refresh_from_db()
    job = photo.restoration
    assert job.pk != first.pk and (job.status, job.choice, job.progress, job.attempts) == ("queued", "fast", 0.0, 0)
    assert job.strength == 0.4 and job.model_name == "" and job.finished_at is None and not job.stored_files()
    assert (job.psnr_after, job.blur_after, job.method) == (None, None, "")
    # The first result is kept as it was, files and all.
    kept = Restoration.objects.get(pk=first.pk)
    assert (kept.status, kept.model_name) == ("succeeded", first.model_name) and kept.psnr_after == first.psnr_after
    assert all(default_storage.exists(name) for name in old_files)
    assert no_broker == [job.pk]
    assert "Running street.png again with Fast; its earlier results are kept." in response.content.decode()
    assert "Run again with" not in response.content.decode()  # not while it is queued

    # A job that is not finished is left alone.
    refused = alice_client.post(reverse("gallery:rerun", args=[photo.pk]), {"model": "best"}, follow=True)
    assert "street.png is still being deblurred: wait for it, or cancel it." in refused.content.decode()
    assert photo.results.count() == 2 and no_broker == [job.pk]


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_failed_and_cancelled_jobs_run_again(alice, both_served, no_broker, django_capture_on_commit_callbacks, status):
    photo = accept_photo(alice, upload("x.jpg", photo_bytes()), original_name="x.jpg")
    Restoration.objects.filter(photo=photo).update(status=status, error="Something.")

    with django_capture_on_commit_callbacks(execute=True):
        job = results.add_run(photo, "fast")

    job.refresh_from_db()
    assert (job.status, job.choice, job.error) == ("queued", "fast", "") and no_broker == [job.pk]
    assert Photo.objects.get(pk=photo.pk).restoration == job
    assert sorted(photo.results.values_list("status", flat=True)) == sorted([status, "queued"])


def test_rerun_needs_a_model_for_the_choice(alice_client, alice, media_storage, tiny_model_file, pair):
    from inference.registry import register_model

    register_model(tiny_model_file, name="best-only", serve=["best"])
    photo = finished_photo(alice, *pair, choice="best")
    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    assert "Run again with Fast" not in page  # no model serves it
    assert "Run again with Auto" in page and "Run again with Camera shake" in page  # they need none

    response = alice_client.post(reverse("gallery:rerun", args=[photo.pk]), {"model": "fast"}, follow=True)

    assert "No model serves &quot;Fast&quot; yet." in response.content.decode()
    assert Restoration.objects.get(photo=photo).status == "succeeded"


def test_a_job_runs_the_model_at_full_strength_whatever_the_saved_strength(alice, active_model):
    photo = accept_photo(alice, upload("x.jpg", photo_bytes(blur=1.5)), original_name="x.jpg", strength=0.0)

    jobs.run(photo.restoration.pk)

    job = Restoration.objects.get(photo=photo)
    with job.result.open("rb") as result, photo.original.open("rb") as original:
        stored, before = np.asarray(Image.open(result)), np.asarray(Image.open(original))
    assert job.status == "succeeded" and job.strength == 0.0
    assert not np.array_equal(stored, before)  # the model's output, not the strength-0 blend
    assert np.array_equal(np.asarray(blends.blend(Image.fromarray(before), Image.fromarray(stored), 0.0)), before)


# -- the API -------------------------------------------------------------------


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_api_patch_saves_the_strength_that_the_result_and_its_link_apply(
    alice, bob, media_storage, pair, render_requests, django_capture_on_commit_callbacks
):
    original, output = pair
    photo = finished_photo(alice, original, output)
    url = reverse("api:photo-detail", kwargs={"pk": photo.pk})
    api = api_as(alice)

    assert api.patch(url, {"strength": 1.5}, format="json").json() == {
        "strength": ["Ensure this value is less than or equal to 1.0."]
    }
    assert api_as(bob).patch(url, {"strength": 0.5}, format="json").status_code == 404
    assert api.put(url, {"strength": 0.5}, format="json").status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        changed = api.patch(url, {"strength": 0.7}, format="json")

    assert changed.status_code == 200 and changed.json()["strength"] == 0.7
    result = reverse("api:photo-result", kwargs={"pk": photo.pk})
    link = changed.json()["result_url"]
    assert "/photos/links/blend/" in link
    with django_capture_on_commit_callbacks(execute=True):
        pending = api.get(result, {"format": "jpeg"})
        # The link handed out meanwhile answers the same way, then serves the file.
        early = APIClient().get(link.removeprefix("http://testserver"))
    assert pending.status_code == 202 and pending["Retry-After"] == "2"
    assert pending.json() == {"detail": "The download at 70 % is being prepared; a large photo takes a few seconds."}
    assert early.status_code == 202 and early["Retry-After"] == "2"
    assert set(render_requests) == {photo.restoration.pk}

    blends.render(photo.restoration.pk)

    expected = expected_blend(original, output, 0.7)
    download = api.get(result, {"format": "jpeg"})
    assert download["Content-Type"] == "image/jpeg" and 'filename="street-deblurred.jpg"' in download["Content-Disposition"]
    assert mean_error(image_of(download), expected) <= 6
    # The short-lived link serves the stored blend too, without credentials.
    linked = APIClient().get(link.removeprefix("http://testserver"))
    assert linked.status_code == 200 and max_error(image_of(linked), expected) <= 1
    assert APIClient().get(link.removeprefix("http://testserver")[:-3] + "xyz").status_code == 404
    # Once rendered, the API hands out the stored file's own link.
    assert "/photos/links/blend/" not in api.get(url).json()["result_url"]
    # A PATCH without the strength changes nothing.
    assert api.patch(url, {}, format="json").json()["strength"] == 0.7


def test_api_rerun(alice, bob, both_served, pair, no_broker, django_capture_on_commit_callbacks):
    photo = finished_photo(alice, *pair, choice="best")
    url = reverse("api:photo-rerun", kwargs={"pk": photo.pk})
    api = api_as(alice)

    assert api_as(bob).post(url, {"model": "fast"}, format="json").status_code == 404
    assert api.post(url, {"model": "turbo"}, format="json").json() == {
        "model": ['Choose "auto", "best", "fast" or "shake", not "turbo".']
    }
    with django_capture_on_commit_callbacks(execute=True):
        rerun = api.post(url, {"model": "fast"}, format="json")

    assert rerun.status_code == 202
    assert {key: rerun.json()[key] for key in ("status", "model", "model_name", "result_url")} == {
        "status": "queued", "model": "fast", "model_name": None, "result_url": None,
    }
    first, added = rerun.json()["results"]
    assert (first["id"], first["status"], first["current"]) == (photo.restoration.pk, "succeeded", False)
    assert (added["status"], added["current"]) == ("queued", True) and rerun.json()["current_result"] == added["id"]
    assert no_broker == [added["id"]]
    again = api.post(url, {}, format="json")
    assert again.status_code == 409 and again.json() == {"detail": "street.png is still being deblurred: wait for it, or cancel it."}
