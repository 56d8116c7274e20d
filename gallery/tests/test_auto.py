"""Auto, Camera shake and what a result says about itself (inference.auto), through the real
job code: the kernel engine runs for real on small synthetic photos (plain NumPy, about a
second each), and the page, the gallery and the API show its verdict, method and kernel."""

import io
import re
import zipfile

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image, ImageDraw
from rest_framework.test import APIClient
from scipy import ndimage

from gallery import archive, jobs, results
from gallery.models import Archive, Photo, Restoration
from gallery.uploads import accept_photo, delete_photo
from inference import kernels, speed
from inference.kernels.drawing import kernel_extent
from training.degrade import trajectory_kernel

from .conftest import succeeded_photo, upload


def scene(size: int = 128, seed: int = 1) -> np.ndarray:
    """A sharp photo-like RGB image: overlapping flat shapes with crisp edges, which is what
    a kernel estimator learns the blur from."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(60, 200, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x0, y0 = (int(v) for v in rng.integers(-20, size, 2))
        width, height = (int(v) for v in rng.integers(10, 60, 2))
        shape = draw.rectangle if rng.random() < 0.5 else draw.ellipse
        shape([x0, y0, x0 + width, y0 + height], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return np.asarray(image)


# A hand-held shake about 7 px across (training.degrade's camera trajectories).
SHAKE = trajectory_kernel(np.random.default_rng(0), 13, exposure=1.0)


def shaken(sharp: np.ndarray) -> np.ndarray:
    blurred = [ndimage.convolve(sharp[..., c].astype(np.float32), SHAKE, mode="reflect") for c in range(3)]
    return np.clip(np.rint(np.stack(blurred, axis=-1)), 0, 255).astype(np.uint8)


def png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def new_photo(user, rgb: np.ndarray, *, reference: np.ndarray | None = None, **extra) -> Photo:
    sharp = upload("sharp.png", png(reference), "image/png") if reference is not None else None
    return accept_photo(user, upload("shaken.png", png(rgb), "image/png"), original_name="shaken.png", reference=sharp, **extra)


def finished(photo: Photo) -> Restoration:
    """The photo's current job, run."""
    photo.refresh_from_db()
    jobs.run(photo.restoration_id)
    return Restoration.objects.select_related("photo", "model_version").get(pk=photo.restoration_id)


def stored(name: str) -> Image.Image:
    with default_storage.open(name) as handle:
        return Image.open(io.BytesIO(handle.read()))


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: None)


@pytest.fixture
def alice_api(alice) -> APIClient:
    api = APIClient()
    api.force_authenticate(alice)
    return api


def api_detail(api: APIClient, photo: Photo) -> dict:
    return api.get(reverse("api:photo-detail", kwargs={"pk": photo.pk})).json()


# -- Camera shake ----------------------------------------------------------------


@pytest.fixture
def shake_job(alice, media_storage) -> Restoration:
    """A shaken photo with its sharp reference, run with Camera shake and no model installed."""
    sharp = scene()
    return finished(new_photo(alice, shaken(sharp), reference=sharp, choice="shake"))


def test_camera_shake_finds_the_blur_undoes_it_and_records_what_happened(shake_job):
    job = shake_job

    assert (job.status, job.error) == ("succeeded", "")
    assert (job.method, job.verdict, job.decision) == ("kernel", "sharper", "")
    assert job.model_name == "kernel-engine" and job.model_version is None
    assert job.precision == "float32"  # the kernel engine's NumPy arithmetic
    assert "deconvolution" in job.verdict_reason
    # The shake is 7 px across; the estimate is close.
    assert abs(job.kernel_size - kernel_extent(SHAKE)) <= 3
    # Against the reference, each image aligned on its own: a clear gain.
    assert job.psnr_after > job.psnr_before + 3 and job.ssim_after > job.ssim_before
    assert job.blur_after < job.blur_before


def test_the_kernel_is_drawn_as_a_png_under_the_photos_own_name(shake_job):
    job = shake_job

    assert job.kernel_image.name == f"results/{job.photo_id}-{job.pk}-kernel.png"
    drawing = stored(job.kernel_image.name)
    assert drawing.format == "PNG" and 128 <= drawing.width == drawing.height <= 256
    pixels = np.asarray(drawing.convert("L"))
    assert pixels[0, 0] < 40 and pixels.max() > 200  # a light path on a dark ground


def test_the_photo_page_shows_the_verdict_the_method_and_the_kernel(alice_client, shake_job):
    photo = shake_job.photo

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()

    assert re.search(r'<h2 id="verdict">Sharper</h2>', page)
    assert f'<p id="verdict-reason">{shake_job.verdict_reason}</p>'.replace("'", "&#x27;") in page
    assert '<dd id="method">Kernel estimation and deconvolution</dd>' in page
    assert 'id="decision"' not in page  # Camera shake decides nothing
    size = shake_job.kernel_size
    assert f"The blur we found: the camera’s path, {size} px across." in page
    assert f"the path the camera took while the shutter was open, {size} pixels across" in page  # its alt text
    assert "lower is sharper" in page and 'id="blur-caveat"' not in page
    assert '<dd id="model">Camera shake: kernel-engine</dd>' in page
    assert '<dd id="precision">float32</dd>' in page

    kernel = alice_client.get(reverse("gallery:file", args=[photo.pk, "kernel"]))
    assert kernel.status_code == 200 and kernel["Content-Type"] == "image/png"


def test_the_gallery_card_shows_the_verdict(alice_client, shake_job):
    history = alice_client.get(reverse("gallery:history")).content.decode()

    assert '<span class="badge verdict sharper"' in history and ">Sharper</span>" in history


def test_the_api_returns_the_verdict_the_method_and_a_link_to_the_kernel(alice_api, shake_job):
    job = shake_job

    data = api_detail(alice_api, job.photo)

    assert (data["model"], data["model_name"], data["method"]) == ("shake", "kernel-engine", "kernel")
    assert (data["verdict"], data["verdict_reason"], data["decision"]) == ("sharper", job.verdict_reason, None)
    assert data["precision"] == "float32"
    assert data["kernel_size"] == job.kernel_size
    with default_storage.open(job.kernel_image.name) as handle:
        drawn = handle.read()
    link = alice_api.get(data["kernel_url"])  # a signed link: it works without credentials too
    assert link.status_code == 200 and b"".join(link.streaming_content) == drawn
    assert APIClient().get(data["kernel_url"]).status_code == 200


def test_someone_elses_kernel_does_not_exist(client, bob, shake_job):
    client.force_login(bob)

    assert client.get(reverse("gallery:file", args=[shake_job.photo_id, "kernel"])).status_code == 404


def test_the_zip_leaves_the_kernel_out_and_a_delete_takes_it(alice, shake_job, media_storage):
    photo = shake_job.photo
    made = archive.request(alice, [photo])
    archive.build(str(made.pk))
    with default_storage.open(Archive.objects.get(pk=made.pk).file.name) as stored, zipfile.ZipFile(stored) as zipped:
        assert sorted(zipped.namelist()) == ["shaken-deblurred.png", "shaken.png"]

    assert default_storage.exists(shake_job.kernel_image.name)
    assert delete_photo(Photo.objects.get(pk=photo.pk))
    assert not default_storage.exists(shake_job.kernel_image.name)
    assert not list((media_storage / "default" / "results").iterdir())


# -- Auto ------------------------------------------------------------------------


def test_a_sharp_photo_with_auto_shows_little_change_and_is_kept_as_it_was(alice_client, alice, alice_api, media_storage):
    sharp = scene(seed=0)
    photo = new_photo(alice, sharp)  # Auto, the default

    job = finished(photo)

    assert job.choice == "auto" and job.status == "succeeded"
    assert (job.method, job.verdict, job.model_name) == ("none", "little-change", "")
    assert job.decision and job.verdict_reason
    # The result is the photo itself, so that its downloads work like any other.
    assert np.array_equal(np.asarray(stored(job.result.name)), sharp)

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    assert '<h2 id="verdict">Little change</h2>' in page
    assert '<dd id="method">Left as it was</dd>' in page and 'id="decision"' in page
    assert "lower is sharper" not in page
    # The viewer and the figures call the unchanged photo that, not "Deblurred".
    assert 'id="after-label" aria-hidden="true" data-name="Unchanged">Unchanged</span>' in page
    assert "<th>Result (unchanged)</th>" in page and "Deblurred" not in page.partition('id="metrics"')[2].partition("</table>")[0]
    download = alice_client.get(reverse("gallery:file", args=[photo.pk, "result-png"]), {"download": "1"})
    assert download.status_code == 200

    data = api_detail(alice_api, photo)
    assert (data["model"], data["method"], data["verdict"], data["model_name"]) == ("auto", "none", "little-change", None)
    assert data["precision"] is None and 'id="precision"' not in page
    assert data["decision"] == job.decision


def test_auto_sends_a_photo_whose_blur_differs_from_place_to_place_to_the_network(alice, active_model, monkeypatch):
    from inference import auto

    # What Auto measures on large photos (kernels of the photo's quarters that disagree),
    # set here: the photos of these tests are too small to tell.
    monkeypatch.setattr(auto, "regional_agreement", lambda rgb: 0.2)

    job = finished(new_photo(alice, shaken(scene())))

    assert (job.status, job.model_name) == ("succeeded", "tiny-test")
    assert job.model_version == active_model and "differs from place to place" in job.decision
    # The network's output is kept only when it is sharper; otherwise the photo stays as it was.
    assert job.method == ("network" if job.verdict == "sharper" else "none")
    assert job.verdict in ("sharper", "little-change") and not job.kernel_image
    active_model.refresh_from_db()
    assert active_model.speed  # a network's time is its model's measured speed


@pytest.mark.parametrize("setting", ["bfloat16", "float32"])
def test_a_networks_result_records_the_precision_it_ran_at(alice, active_model, settings, monkeypatch, setting):
    from inference import auto

    settings.INFERENCE_PRECISION = setting
    # The tiny network's output is kept only when sharper: a sharpening stands in for it.
    monkeypatch.setattr(auto, "regional_agreement", lambda rgb: 0.2)
    monkeypatch.setattr(auto, "_judged", lambda rgb, output, margin=0.0: ("sharper", "Sharper."))

    job = finished(new_photo(alice, shaken(scene())))

    assert (job.status, job.method, job.model_name) == ("succeeded", "network", "tiny-test")
    assert job.precision == setting


def test_auto_fails_saying_so_when_such_a_photo_needs_a_network_and_none_is_installed(alice, media_storage, monkeypatch):
    from inference import auto

    monkeypatch.setattr(auto, "regional_agreement", lambda rgb: 0.2)

    job = finished(new_photo(alice, shaken(scene())))

    assert job.status == "failed"
    assert job.error.startswith("Auto needed a network for this photo.")
    assert 'No model serves "Best quality" yet' in job.error


# -- what the page says when a result is not sharper -----------------------------


def test_the_page_never_calls_a_result_sharper_that_the_verdict_does_not(alice_client, alice, media_storage):
    photo = succeeded_photo(
        alice,
        choice="shake",
        blur_before=0.463,
        blur_after=0.374,
        method="none",
        verdict="not-improved",
        verdict_reason="We could not improve this photo: blurring the result again does not give the photo back. "
        "It was left as it was.",
    )

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    history = alice_client.get(reverse("gallery:history")).content.decode()

    assert '<h2 id="verdict">We could not improve this photo</h2>' in page
    assert '<p id="verdict-reason">Blurring the result again does not give the photo back. It was left as it was.</p>' in page
    assert "lower is sharper" not in page
    assert 'id="blur-caveat"' in page and "found no improvement" in page
    assert '<span class="badge verdict not-improved"' in history and "Could not improve" in history


def test_a_result_from_before_verdicts_keeps_its_figures_as_they_were(alice_client, alice, media_storage):
    photo = succeeded_photo(alice, blur_before=0.46, blur_after=0.37)

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()

    assert 'id="verdict"' not in page and "lower is sharper" in page


# -- choices: upload, rerun, ETA -------------------------------------------------


def test_running_again_with_camera_shake_adds_a_result_beside_the_networks(alice_client, alice, active_model, media_storage):
    photo = new_photo(alice, shaken(scene()), choice="best")
    job = network = finished(photo)
    # The tiny network's output is kept only where the blur figure says it is sharper.
    assert (job.model_name, job.kernel_image.name) == ("tiny-test", "")
    assert job.method == ("network" if job.verdict == "sharper" else "none")
    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    assert all(f'id="rerun-{key}"' in page for key in ("auto", "fast", "shake")) and 'id="rerun-best"' not in page

    alice_client.post(reverse("gallery:rerun", args=[photo.pk]), {"model": "shake"})
    photo.refresh_from_db()
    queued = photo.restoration
    assert queued.pk != network.pk
    assert (queued.status, queued.choice, queued.method, queued.verdict, queued.model_name) == ("queued", "shake", "", "", "")
    job = finished(photo)

    assert (job.status, job.method, job.verdict, job.model_name) == ("succeeded", "kernel", "sharper", "kernel-engine")
    assert job.model_version is None and job.kernel_size and default_storage.exists(job.kernel_image.name)
    # The network's result is kept as it was, files and all.
    kept = Restoration.objects.get(pk=network.pk)
    assert (kept.status, kept.model_name, kept.kernel_image.name) == ("succeeded", "tiny-test", "")
    assert default_storage.exists(kept.result.name) and kept.result.name != job.result.name

    # And the network again: a third result, without a kernel; the second keeps its drawing.
    results.add_run(photo, "best")
    third = finished(photo)
    assert (third.model_name, third.kernel_image.name, third.kernel_size) == ("tiny-test", "", None)
    assert third.method == ("network" if third.verdict == "sharper" else "none")
    assert default_storage.exists(job.kernel_image.name) and photo.results.count() == 3


def test_rerun_with_auto_or_shake_needs_no_model(alice, media_storage):
    assert jobs.rerun_refusal("shake") is None and jobs.rerun_refusal("auto") is None
    assert jobs.rerun_refusal("best") == 'No model serves "Best quality" yet.'


def test_the_upload_page_offers_the_four_choices_auto_first_and_chosen(alice_client, media_storage):
    page = alice_client.get(reverse("gallery:upload")).content.decode()

    values = re.findall(r'<input type="radio" name="model" value="(\w+)"', page)
    assert values == ["auto", "best", "fast", "shake"]
    assert re.search(r'<input type="radio" name="model" value="auto"[^>]* checked', page)
    assert re.search(r'value="shake"[^>]*>', page) and not re.search(r'value="shake"[^>]* disabled', page)
    assert re.search(r'value="best"[^>]* disabled', page)  # no model serves it
    assert "Hand-held shake and focus blur: estimates the blur and undoes it." in page
    assert "Picks per photo" in page


@pytest.mark.parametrize(
    "choice, status, error",
    [
        ("shake", 201, None),
        ("auto", 201, None),
        ("", 201, None),  # Auto, the default
        ("turbo", 400, 'Choose "auto", "best", "fast" or "shake", not "turbo".'),
        ("best", 400, 'No model serves "Best quality" yet. Choose "Auto" (auto) or "Camera shake" (shake).'),
    ],
)
def test_the_upload_form_checks_the_choice(alice_client, media_storage, choice, status, error):
    image = upload("shaken.png", png(shaken(scene())), "image/png")
    response = alice_client.post(
        reverse("gallery:upload"), {"images": image, "model": choice}, headers={"Accept": "application/json"}
    )

    assert response.status_code == status, response.content
    if error:
        assert response.json() == {"field": "model", "error": error}
    else:
        assert Restoration.objects.get().choice == (choice or "auto")


def test_the_api_takes_the_four_choices_and_refuses_others_clearly(alice_api, media_storage):
    def post(**fields):
        image = upload("shaken.png", png(shaken(scene())), "image/png")
        return alice_api.post(reverse("api:photo-list"), {"image": image, **fields}, format="multipart")

    assert post().json()["model"] == "auto"
    assert post(model="shake").json()["model"] == "shake"
    refused = post(model="turbo")
    assert refused.status_code == 400
    assert refused.json() == {"model": ['Choose "auto", "best", "fast" or "shake", not "turbo".']}


def test_a_queued_auto_or_shake_job_expects_the_kernel_engines_time(alice, media_storage):
    for choice in ("auto", "shake"):
        photo = accept_photo(alice, upload("big.png", png(np.zeros((500, 1000, 3), np.uint8)), "image/png"),
                             original_name="big.png", choice=choice)  # fmt: skip
        expected = kernels.FULL.seconds(0.5) + 0.5 * speed.FINISHING_SECONDS_PER_MEGAPIXEL
        assert photo.restoration.expected_seconds == pytest.approx(expected)
        assert photo.restoration.eta_seconds == pytest.approx(photo.restoration.wait_seconds + expected)


def test_models_lists_the_four_choices(client, two_models):
    data = client.get(reverse("api:models")).json()

    assert [(choice["key"], choice["label"]) for choice in data] == [
        ("auto", "Auto"), ("best", "Best quality"), ("fast", "Fast"), ("shake", "Camera shake"),
    ]  # fmt: skip
    by_key = {choice["key"]: choice for choice in data}
    assert by_key["best"]["model"]["name"] == "tiny-best" and by_key["fast"]["model"]["name"] == "tiny-fast"
    for key in ("auto", "shake"):
        assert by_key[key]["model"] is None and not by_key[key]["needs_model"] and by_key[key]["available"]
        assert by_key[key]["seconds_per_megapixel"] == kernels.FULL.seconds_per_megapixel
    assert by_key["shake"]["description"] == "Hand-held shake and focus blur: estimates the blur and undoes it."
    assert by_key["best"]["needs_model"] and by_key["best"]["available"]
