"""The photo side of the REST API (/api/v1/photos/, /api/v1/models/) on the
filesystem storage, through the real URL routing, authentication and throttling.
The S3 cases are in test_api_s3.py."""

import base64
import io
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core import signing
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.tokens import issue_token
from gallery import jobs
from gallery.models import Photo, Restoration
from gallery.uploads import accept_photo
from inference import kernels, speed

from .conftest import photo_bytes, upload
from .test_upload import BAD_FILES, stored_names

LIST = reverse("api:photo-list")
ACTIVE_MODEL = reverse("api:active-model")
MODELS = reverse("api:models")


# -- helpers -------------------------------------------------------------------


def api_as(user=None) -> APIClient:
    """An API client signed in as the user (or anonymous)."""
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def detail_url(photo: Photo | uuid.UUID) -> str:
    return reverse("api:photo-detail", kwargs={"pk": getattr(photo, "pk", photo)})


def retry_url(photo: Photo) -> str:
    return reverse("api:photo-retry", kwargs={"pk": photo.pk})


def result_url(photo: Photo) -> str:
    return reverse("api:photo-result", kwargs={"pk": photo.pk})


def post_photo(api: APIClient, image=None, REMOTE_ADDR: str = "127.0.0.1", **fields) -> HttpResponse:
    """POST a multipart upload from the address; a small JPEG unless an image is given."""
    body = {"image": image or upload("photo.jpg", photo_bytes()), **fields}
    return api.post(LIST, body, format="multipart", REMOTE_ADDR=REMOTE_ADDR)


def new_photo(user, name: str = "photo.jpg", *, reference: bool = False, size=(96, 64), choice="best", **extra) -> Photo:
    """A photo for Best quality unless another choice is given: its job runs the tiny model."""
    sharp = upload("sharp.png", photo_bytes(size=size, fmt="PNG")) if reference else None
    image = upload(name, photo_bytes(size=size, blur=1.5))
    return accept_photo(user, image, original_name=name, reference=sharp, choice=choice, **extra)


def processed(user, name: str = "photo.jpg", *, reference: bool = False) -> Photo:
    """A photo whose job ran (synchronously) to the end."""
    photo = new_photo(user, name, reference=reference)
    jobs.run(photo.restoration.pk)
    return Photo.objects.select_related("restoration").get(pk=photo.pk)


def set_job(photo: Photo, **fields) -> None:
    Restoration.objects.filter(photo=photo).update(**fields)


def body(response: HttpResponse) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def image_of(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def local_path(url: str) -> str:
    """The path of an absolute link the API handed out, for the test client."""
    parts = urlparse(url)
    assert parts.scheme == "http" and parts.netloc == "testserver", url
    return parts.path


# -- fixtures ------------------------------------------------------------------


@pytest.fixture
def storage_root(media_storage) -> Path:
    return media_storage / "default"


@pytest.fixture
def alice_api(alice) -> APIClient:
    return api_as(alice)


@pytest.fixture
def bob_api(bob) -> APIClient:
    return api_as(bob)


@pytest.fixture
def finished(alice, active_model) -> Photo:
    """Alice's photo with a sharp reference, deblurred by the tiny model."""
    photo = processed(alice, "street.jpg", reference=True)
    assert photo.restoration.status == "succeeded", photo.restoration.error
    return photo


# -- upload --------------------------------------------------------------------


def test_upload_answers_the_queued_photo_and_enqueues_its_job_on_commit(
    alice_api, alice, storage_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_photo(
            alice_api,
            upload("holiday.jpg", photo_bytes(blur=2)),
            reference=upload("sharp.png", photo_bytes(fmt="PNG")),
            strength="0.25",
        )

    assert response.status_code == 201, response.content
    data = response.json()
    photo = Photo.objects.get(owner=alice)
    assert data["id"] == str(photo.pk)
    assert (data["original_name"], data["width"], data["height"]) == ("holiday.jpg", 96, 64)
    assert (data["status"], data["progress"], data["error"]) == ("queued", 0.0, "")
    assert data["strength"] == 0.25 and photo.restoration.strength == 0.25
    assert data["has_reference"] is True
    assert data["model"] == "auto" and data["model_name"] is None  # Auto, the default
    assert (data["method"], data["verdict"], data["verdict_reason"], data["decision"]) == (None, None, None, None)
    # Auto's time is the kernel engine's, whatever the models' speeds; nothing is ahead of it.
    megapixels = 96 * 64 / 1e6
    expected = kernels.FULL.seconds(megapixels) + megapixels * speed.FINISHING_SECONDS_PER_MEGAPIXEL
    assert data["finished"] is None and data["eta_seconds"] == pytest.approx(expected)
    assert data["queue_position"] == 0 and data["wait_seconds"] == 0
    assert data["urls_expire_in"] == 300
    for name in ("original_url", "normalised_url", "reference_url", "thumbnail_url", "preview_url"):
        assert local_path(data[name]).startswith("/photos/links/"), name
    assert data["result_url"] is None and data["result_preview_url"] is None and data["kernel_url"] is None
    assert data["kernel_size"] is None
    stored = [f"originals/{photo.pk}.png", f"originals/{photo.pk}-given", f"originals/{photo.pk}-reference.png"]
    stored += [f"thumbnails/{photo.pk}.jpg", f"previews/{photo.pk}.jpg"]
    assert stored_names(storage_root) == sorted(stored)
    # Enqueued once the rows are committed, not before.
    assert len(callbacks) == 1
    assert Restoration.objects.get(photo=photo).enqueued_at is None
    callbacks[0]()
    assert Restoration.objects.get(photo=photo).enqueued_at is not None


def test_upload_job_is_sent_to_the_broker_when_the_transaction_commits(
    alice_api, alice, storage_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_photo(alice_api)

    assert response.status_code == 201
    job = Restoration.objects.get(photo__owner=alice)
    assert job.status == "queued" and job.enqueued_at is not None


def test_upload_links_serve_the_stored_files_without_credentials(alice_api, storage_root):
    data = post_photo(alice_api, upload("a.png", photo_bytes(fmt="PNG"))).json()

    original = api_as().get(local_path(data["original_url"]))
    thumbnail = api_as().get(local_path(data["thumbnail_url"]))

    assert original.status_code == 200 and original["Content-Type"] == "image/png"
    assert image_of(body(original)).size == (96, 64)
    assert thumbnail.status_code == 200 and image_of(body(thumbnail)).format == "JPEG"


def test_upload_strength_defaults_to_full_and_no_reference(alice_api, storage_root):
    data = post_photo(alice_api).json()

    assert data["strength"] == 1.0
    assert data["has_reference"] is False and data["reference_url"] is None


def test_upload_for_the_fast_model(alice_api, two_models):
    response = post_photo(alice_api, model="fast")

    assert response.status_code == 201, response.content
    assert response.json()["model"] == "fast"
    assert Restoration.objects.get().choice == "fast"


def test_upload_for_a_choice_no_model_serves_is_refused(alice_api, storage_root, tiny_model_file):
    from inference.registry import register_model

    register_model(tiny_model_file, name="best-only", serve=["best"])

    response = post_photo(alice_api, model="fast")

    assert response.status_code == 400
    assert response.json() == {
        "model": ['No model serves "Fast" yet. Choose "Auto" (auto), "Best quality" (best) or "Camera shake" (shake).']
    }
    assert not Photo.objects.exists() and stored_names(storage_root) == []


def test_with_no_model_at_all_auto_and_camera_shake_are_taken_and_the_learned_choices_refused(alice_api, storage_root):
    """Auto and Camera shake run the kernel engine: with no model installed, they are what
    an upload can choose."""
    assert post_photo(alice_api).json()["model"] == "auto"
    assert post_photo(alice_api, model="shake").json()["model"] == "shake"

    refused = post_photo(alice_api, model="fast")

    assert refused.status_code == 400
    assert refused.json() == {"model": ['No model serves "Fast" yet. Choose "Auto" (auto) or "Camera shake" (shake).']}


def test_upload_ignores_a_client_supplied_owner_and_id(alice_api, alice, bob, storage_root):
    chosen = uuid.uuid4()

    response = post_photo(alice_api, owner=str(bob.pk), id=str(chosen))

    assert response.status_code == 201
    photo = Photo.objects.get()
    assert photo.owner == alice
    assert photo.pk != chosen and response.json()["id"] == str(photo.pk)


@dataclass
class Rejection:
    fields: Callable[[], dict]
    status: int
    field: str
    says: str
    settings: dict = field(default_factory=dict)


def _jpeg(**kwargs) -> dict:
    return {"image": upload("photo.jpg", photo_bytes(**kwargs))}


def _with_reference(content: bytes, name: str = "sharp.png") -> Callable[[], dict]:
    return lambda: {**_jpeg(), "reference": upload(name, content)}


REJECTIONS = {
    "missing image": Rejection(lambda: {"strength": "0.5"}, 400, "image", "No file was submitted."),
    "image not a file": Rejection(lambda: {"image": "photo.jpg"}, 400, "image", "The submitted data was not a file."),
    **{
        f"{kind} image": Rejection(
            lambda kind=kind: {"image": upload(f"{kind}.jpg", BAD_FILES[kind][0])},
            415 if kind == "text" else 400,
            "image",
            BAD_FILES[kind][1],
        )
        for kind in BAD_FILES
    },
    "file too large": Rejection(_jpeg, 413, "image", "larger than the", {"UPLOAD_MAX_BYTES": 1000}),
    "too many pixels": Rejection(_jpeg, 400, "image", "pixels", {"UPLOAD_MAX_PIXELS": 96 * 64 - 1}),
    "too small": Rejection(
        lambda: {"image": upload("tiny.png", photo_bytes(size=(20, 18), fmt="PNG"))},
        400,
        "image",
        "The image is 20×18 pixels; photos must be at least 32 pixels on each side.",
    ),
    "quota exceeded": Rejection(_jpeg, 400, "image", "storage quota", {"USER_QUOTA_BYTES": 100}),
    "reference not an image": Rejection(
        _with_reference(BAD_FILES["text"][0], "sharp.txt"), 415, "reference", "not an image type"
    ),
    "reference corrupt": Rejection(
        _with_reference(BAD_FILES["truncated"][0]), 400, "reference", "damaged or incomplete"
    ),
    "reference empty": Rejection(_with_reference(b""), 400, "reference", "the file is empty"),
    "reference too large": Rejection(
        _with_reference(photo_bytes(size=(96, 64), fmt="PNG")),
        413,
        "reference",
        "larger than the",
        {"UPLOAD_MAX_BYTES": 8000},  # the JPEG photo fits, its PNG reference does not
    ),
    "reference of another size": Rejection(
        _with_reference(photo_bytes(size=(64, 64), fmt="PNG")),
        400,
        "reference",
        "The sharp reference must be the same size as the photo (96×64); it is 64×64.",
    ),
    "strength above 1": Rejection(lambda: {**_jpeg(), "strength": "1.5"}, 400, "strength", "less than or equal to 1"),
    "strength below 0": Rejection(lambda: {**_jpeg(), "strength": "-0.1"}, 400, "strength", "greater than or equal to"),
    "strength not a number": Rejection(lambda: {**_jpeg(), "strength": "full"}, 400, "strength", "A valid number is"),
    "strength NaN": Rejection(lambda: {**_jpeg(), "strength": "nan"}, 400, "strength", "A valid number is"),
    "unknown model": Rejection(
        lambda: {**_jpeg(), "model": "turbo"}, 400, "model", 'Choose "auto", "best", "fast" or "shake", not "turbo".'
    ),
}


@pytest.mark.parametrize("case", REJECTIONS)
def test_rejected_upload_says_why_on_its_field_and_stores_nothing(alice_api, settings, storage_root, case):
    rejection = REJECTIONS[case]
    for name, value in rejection.settings.items():
        setattr(settings, name, value)

    response = alice_api.post(LIST, rejection.fields(), format="multipart")

    assert response.status_code == rejection.status, response.content
    data = response.json()
    assert list(data) == [rejection.field]
    assert len(data[rejection.field]) == 1
    assert rejection.says.lower() in data[rejection.field][0].lower()
    assert not Photo.objects.exists() and not Restoration.objects.exists()
    assert stored_names(storage_root) == []


def test_file_over_the_limit_names_the_limit(alice_api, settings, storage_root):
    settings.UPLOAD_MAX_BYTES = 3 * 2**20
    big = photo_bytes(size=(2000, 1500), fmt="PNG")
    assert len(big) > settings.UPLOAD_MAX_BYTES

    response = post_photo(alice_api, upload("big.png", big))

    assert response.status_code == 413
    assert response.json() == {"image": ["The file is larger than the 3 MB limit."]}


def test_unsupported_type_gives_the_same_message_as_the_web_upload(alice_api, alice_client, storage_root):
    content = BAD_FILES["text"][0]

    api = post_photo(alice_api, upload("notes.jpg", content))
    web = alice_client.post(reverse("gallery:upload"), {"images": [upload("notes.jpg", content)]})

    assert api.status_code == 415
    assert web.status_code == 400
    web_messages = [str(m) for m in web.wsgi_request._messages]
    assert web_messages == [f"notes.jpg: {api.json()['image'][0]}"]
    assert "Please upload a JPEG, PNG, WebP, TIFF or HEIC image." in api.json()["image"][0]


def test_request_over_the_request_limit_is_refused_as_json_before_parsing(alice_api, settings, storage_root):
    settings.REQUEST_MAX_BYTES = 4096
    content = photo_bytes(size=(200, 200), fmt="PNG")
    assert len(content) > 4096

    response = post_photo(alice_api, upload("big.png", content))

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Request too large: at most 4.0 KB per request."}
    assert not Photo.objects.exists()
    assert stored_names(storage_root) == []


def test_request_under_the_limit_is_accepted(alice_api, settings, storage_root):
    content = photo_bytes()
    settings.REQUEST_MAX_BYTES = len(content) + 4096

    assert post_photo(alice_api, upload("ok.jpg", content)).status_code == 201


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_other_accepted_formats_upload(alice_api, storage_root, fmt):
    response = post_photo(alice_api, upload(f"photo.{fmt.lower()}", photo_bytes(fmt=fmt), "application/octet-stream"))

    assert response.status_code == 201, response.content
    assert (response.json()["width"], response.json()["height"]) == (96, 64)


def test_uploads_are_throttled_per_user(alice_api, bob_api, alice, storage_root, settings):
    settings.UPLOAD_RATE_PHOTOS = "2/minute"

    assert [post_photo(alice_api).status_code for _ in range(2)] == [201, 201]
    third = post_photo(alice_api)

    assert third.status_code == 429
    assert 0 < int(third["Retry-After"]) <= 65  # a minute and a twelfth: the window slides in twelfths
    assert third.json()["detail"].startswith("You have reached the upload limit of 2 photos a minute")
    assert Photo.objects.filter(owner=alice).count() == 2
    # Someone else uploads; reading is not counted against uploads.
    assert post_photo(bob_api).status_code == 201
    assert alice_api.get(LIST).status_code == 200


def test_only_uploads_use_up_the_upload_allowance(alice_api, alice, storage_root, settings):
    settings.UPLOAD_RATE_PHOTOS = "2/minute"
    photo = new_photo(alice)  # uploads by any route count: this is the first of two

    for _ in range(3):
        assert alice_api.get(LIST).status_code == 200
        assert alice_api.get(detail_url(photo)).status_code == 200
    assert post_photo(alice_api).status_code == 201
    assert post_photo(alice_api).status_code == 429


def test_a_device_token_authenticates_every_photo_call(alice, storage_root):
    _, token = issue_token(alice, "phone")
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    created = post_photo(phone)
    listed = phone.get(LIST)
    shown = phone.get(detail_url(uuid.UUID(created.json()["id"])))

    assert created.status_code == 201
    assert Photo.objects.get().owner == alice
    assert [p["id"] for p in listed.json()["results"]] == [created.json()["id"]]
    assert shown.status_code == 200
    assert phone.delete(detail_url(uuid.UUID(created.json()["id"]))).status_code == 204


def test_a_wrong_token_is_401(alice, storage_root):
    issue_token(alice, "phone")
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)

    response = stranger.get(LIST)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


# -- list ----------------------------------------------------------------------


def photos_of(user, count: int) -> list[Photo]:
    """count small photos, created one minute apart; newest last."""
    start = timezone.now() - timedelta(hours=1)
    photos = []
    for i in range(count):
        photo = new_photo(user, f"{i}.jpg", size=(32, 32))
        Photo.objects.filter(pk=photo.pk).update(created=start + timedelta(minutes=i))
        photos.append(photo)
    return photos


def ids(response) -> list[str]:
    return [p["id"] for p in response.json()["results"]]


def test_list_shows_only_own_photos_newest_first(alice_api, alice, bob, media_storage):
    mine = photos_of(alice, 3)
    photos_of(bob, 2)

    response = alice_api.get(LIST)

    assert response.status_code == 200
    assert ids(response) == [str(p.pk) for p in reversed(mine)]
    assert [p["original_name"] for p in response.json()["results"]] == ["2.jpg", "1.jpg", "0.jpg"]
    assert response.json()["next"] is None and response.json()["previous"] is None


def test_list_is_empty_for_a_new_user(bob_api, alice, media_storage):
    photos_of(alice, 1)

    assert bob_api.get(LIST).json() == {"next": None, "previous": None, "results": []}


def test_cursor_pages_cover_every_photo_once(alice_api, alice, media_storage):
    expected = [str(p.pk) for p in reversed(photos_of(alice, 7))]

    pages, url = [], f"{LIST}?page_size=3"
    while url:
        response = alice_api.get(url)
        assert response.status_code == 200
        pages.append(response.json())
        url = response.json()["next"]

    assert [len(page["results"]) for page in pages] == [3, 3, 1]
    assert [p["id"] for page in pages for p in page["results"]] == expected
    assert pages[0]["previous"] is None
    # Going back from the last page gives the middle one again.
    back = alice_api.get(pages[-1]["previous"]).json()
    assert [p["id"] for p in back["results"]] == expected[3:6]


def test_cursor_pages_survive_photos_uploaded_at_the_same_instant(alice_api, alice, media_storage):
    photos = photos_of(alice, 5)
    Photo.objects.filter(owner=alice).update(created=timezone.now())

    seen, url = [], f"{LIST}?page_size=2"
    while url:
        response = alice_api.get(url).json()
        seen += [p["id"] for p in response["results"]]
        url = response["next"]

    assert sorted(seen) == sorted(str(p.pk) for p in photos)


def test_page_size_is_capped(alice_api, alice, media_storage, monkeypatch):
    monkeypatch.setattr("gallery.api.PhotoPagination.max_page_size", 2)
    photos_of(alice, 3)

    assert len(ids(alice_api.get(LIST, {"page_size": 50}))) == 2


def test_list_filters_by_status(alice_api, alice, media_storage):
    queued, failed, succeeded = photos_of(alice, 3)
    set_job(failed, status="failed", error="boom")
    set_job(succeeded, status="succeeded")

    assert ids(alice_api.get(LIST, {"status": "failed"})) == [str(failed.pk)]
    assert ids(alice_api.get(LIST, {"status": "queued"})) == [str(queued.pk)]
    assert ids(alice_api.get(LIST, {"status": "running"})) == []


def test_unknown_status_filter_is_400(alice_api, media_storage):
    response = alice_api.get(LIST, {"status": "lost"})

    assert response.status_code == 400
    assert list(response.json()) == ["status"]


def test_invalid_cursor_is_404(alice_api, alice, media_storage):
    photos_of(alice, 1)

    response = alice_api.get(LIST, {"cursor": "not-a-cursor"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


def test_made_up_cursor_position_is_404_not_a_server_error(alice_api, alice, media_storage):
    photos_of(alice, 1)
    made_up = base64.b64encode(b"p=not-a-time").decode()

    response = alice_api.get(LIST, {"cursor": made_up})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


# -- detail --------------------------------------------------------------------


def test_detail_of_a_queued_photo(alice_api, alice, media_storage):
    photo = new_photo(alice, "x.jpg", strength=0.5)

    data = alice_api.get(detail_url(photo)).json()

    assert data["id"] == str(photo.pk)
    assert (data["status"], data["progress"], data["eta_seconds"], data["error"]) == ("queued", 0.0, None, "")
    assert data["strength"] == 0.5
    assert (data["model"], data["model_name"], data["queue_position"]) == ("best", None, 0)
    assert data["processing_seconds"] is None
    assert data["metrics"] == dict.fromkeys(
        ["psnr_before", "psnr_after", "ssim_before", "ssim_after", "blur_before", "blur_after"]
    )


def test_detail_of_a_queued_photo_estimates_its_time_and_says_how_many_are_ahead(alice_api, alice, bob, two_models):
    speed.record(two_models["best"], "cpu-float32", seconds=40.0, megapixels=1.0)
    speed.record(two_models["fast"], "cpu-float32", seconds=3.0, megapixels=1.0)
    ahead = new_photo(bob, "ahead.jpg")
    photo = new_photo(alice, size=(1000, 500), choice="fast")
    for job in Restoration.objects.order_by("created"):
        set_job(job.photo, enqueued_at=job.created)

    data = alice_api.get(detail_url(photo)).json()

    assert (data["status"], data["model"]) == ("queued", "fast")
    wait = Restoration.objects.get(photo=ahead).expected_seconds
    assert data["wait_seconds"] == pytest.approx(wait)
    assert data["eta_seconds"] == pytest.approx(wait + speed.expected("fast", 0.5).seconds)
    assert data["queue_position"] == 1


def test_detail_of_a_running_job_estimates_the_time_left(alice_api, alice, media_storage):
    photo = new_photo(alice)
    now = timezone.now()
    # A quarter done after 30 s of the 120 s expected, as the worker wrote a moment ago.
    set_job(photo, status="running", progress=0.25, progress_cap=0.3, expected_seconds=120.0,
            started_at=now - timedelta(seconds=30), heartbeat_at=now)  # fmt: skip

    data = alice_api.get(detail_url(photo)).json()

    assert (data["status"], data["queue_position"], data["wait_seconds"]) == ("running", None, None)
    assert data["progress"] == pytest.approx(0.25, abs=0.02)
    assert data["eta_seconds"] == pytest.approx(90, abs=3)


def test_detail_of_a_failed_job_says_why(alice_api, alice, media_storage):
    photo = new_photo(alice)
    jobs.run(photo.restoration.pk)  # no model is installed

    data = alice_api.get(detail_url(photo)).json()

    assert data["status"] == "failed"
    assert 'No model serves "Best quality" yet' in data["error"]
    assert data["model_name"] is None
    assert data["result_url"] is None and data["finished"] is not None


def test_detail_of_a_finished_job_has_model_metrics_and_result(alice_api, finished, active_model):
    job = finished.restoration

    data = alice_api.get(detail_url(finished)).json()

    assert (data["status"], data["progress"], data["error"]) == ("succeeded", 1.0, "")
    assert (data["model"], data["model_name"]) == ("best", "tiny-test")
    assert data["processing_seconds"] == pytest.approx(job.processing_seconds)
    assert data["finished"] is not None
    for name in ("psnr_before", "psnr_after", "ssim_before", "ssim_after", "blur_before", "blur_after"):
        assert data["metrics"][name] == pytest.approx(getattr(job, name)), name
        assert data["metrics"][name] is not None
    assert 0 < data["metrics"]["ssim_after"] <= 1


def test_metrics_without_a_reference_are_the_blur_figure_only(alice_api, alice, active_model):
    photo = processed(alice)

    metrics = alice_api.get(detail_url(photo)).json()["metrics"]

    assert metrics["psnr_before"] is metrics["psnr_after"] is metrics["ssim_before"] is metrics["ssim_after"] is None
    assert 0 < metrics["blur_before"] < 1 and 0 < metrics["blur_after"] < 1


def test_result_url_downloads_the_png_without_credentials(alice_api, finished):
    data = alice_api.get(detail_url(finished)).json()

    response = api_as().get(local_path(data["result_url"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = image_of(body(response))
    assert (image.format, image.size) == ("PNG", (96, 64))
    preview = api_as().get(local_path(data["result_preview_url"]))
    assert preview.status_code == 200 and image_of(body(preview)).format == "JPEG"


def test_result_link_stops_working_after_its_lifetime(alice_api, finished, settings, monkeypatch):
    link = local_path(alice_api.get(detail_url(finished)).json()["result_url"])
    issued = time.time()

    monkeypatch.setattr(signing.time, "time", lambda: issued + settings.PRESIGNED_URL_SECONDS - 2)
    assert api_as().get(link).status_code == 200
    monkeypatch.setattr(signing.time, "time", lambda: issued + settings.PRESIGNED_URL_SECONDS + 2)
    expired = api_as().get(link)

    assert expired.status_code == 403
    assert "expired" in expired.content.decode()


def test_result_link_lifetime_follows_the_setting(alice_api, finished, settings):
    settings.PRESIGNED_URL_SECONDS = 0
    data = alice_api.get(detail_url(finished)).json()
    time.sleep(1.1)

    assert data["urls_expire_in"] == 0
    assert api_as().get(local_path(data["result_url"])).status_code == 403


def test_tampered_link_is_404(alice_api, finished):
    link = local_path(alice_api.get(detail_url(finished)).json()["result_url"])
    token = link.rsplit("/", 1)[1]
    payload, signature = token.rsplit(":", 1)
    other = "A" if signature[0] != "A" else "B"
    # Signed with the site's key, but for another purpose than links.
    other_purpose = signing.dumps([f"originals/{finished.pk}.png", None], compress=True)

    assert api_as().get(link.replace(token, f"{payload}:{other}{signature[1:]}")).status_code == 404
    assert api_as().get(link.replace(token, payload + "x:" + signature)).status_code == 404
    assert api_as().get(reverse("gallery:signed-file", args=[other_purpose])).status_code == 404


def test_link_to_a_deleted_photo_is_404(alice_api, finished):
    link = local_path(alice_api.get(detail_url(finished)).json()["original_url"])
    assert alice_api.delete(detail_url(finished)).status_code == 204

    assert api_as().get(link).status_code == 404


# -- ownership -----------------------------------------------------------------


def photo_routes(photo: Photo) -> list[tuple[str, str]]:
    return [
        ("get", detail_url(photo)),
        ("delete", detail_url(photo)),
        ("post", retry_url(photo)),
        ("get", result_url(photo)),
        ("get", result_url(photo) + "?format=webp"),
    ]


def test_someone_elses_photo_does_not_exist(bob_api, finished, storage_root):
    set_job(finished, status="failed")  # retryable, were it bob's
    files_before = stored_names(storage_root)

    for method, url in photo_routes(finished):
        response = getattr(bob_api, method)(url)
        assert response.status_code == 404, (method, url)
        assert response.json() == {"detail": "No Photo matches the given query."}

    assert ids(bob_api.get(LIST)) == []
    job = Restoration.objects.get(photo=finished)
    assert job.status == "failed" and job.attempts == 1
    assert stored_names(storage_root) == files_before and len(files_before) == 10


def test_anonymous_gets_401_on_every_photo_endpoint(finished, storage_root):
    anonymous = api_as()
    routes = [("get", LIST), ("post", LIST), *photo_routes(finished)]

    for method, url in routes:
        response = getattr(anonymous, method)(url)
        assert response.status_code == 401, (method, url)
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        assert response["WWW-Authenticate"] == "Token"

    assert Photo.objects.filter(pk=finished.pk).exists()


def test_a_photo_id_that_exists_nowhere_is_404(alice_api, media_storage):
    response = alice_api.get(detail_url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "No Photo matches the given query."}


def test_photos_cannot_be_edited_but_for_their_strength(alice_api, alice, bob, media_storage):
    photo = new_photo(alice, "mine.jpg")
    changes = {"owner": bob.pk, "original_name": "x.jpg"}

    assert alice_api.put(detail_url(photo), changes, format="json").status_code == 405
    # A PATCH changes the strength alone (gallery/tests/test_strength_rerun.py); the rest is ignored.
    assert alice_api.patch(detail_url(photo), changes, format="json").status_code == 200

    assert Photo.objects.filter(pk=photo.pk, owner=alice, original_name="mine.jpg").exists()


# -- delete --------------------------------------------------------------------


def test_delete_removes_rows_and_every_stored_file(alice_api, finished, storage_root):
    mine = set(stored_names(storage_root))
    assert len(mine) == 10 and any(name.endswith(".webp") for name in mine)

    response = alice_api.delete(detail_url(finished))

    assert response.status_code == 204
    assert not Photo.objects.filter(pk=finished.pk).exists()
    assert not Restoration.objects.filter(photo_id=finished.pk).exists()
    assert stored_names(storage_root) == []
    assert alice_api.get(detail_url(finished)).status_code == 404


def test_delete_leaves_other_photos_alone(alice_api, alice, bob, storage_root):
    keep, drop = new_photo(alice, "keep.jpg"), new_photo(alice, "drop.jpg")
    bobs = new_photo(bob, "bobs.jpg")

    assert alice_api.delete(detail_url(drop)).status_code == 204

    assert set(Photo.objects.values_list("pk", flat=True)) == {keep.pk, bobs.pk}
    assert sorted(n for n in stored_names(storage_root) if str(drop.pk) in n) == []
    assert len(stored_names(storage_root)) == 8


# -- retry ---------------------------------------------------------------------


def test_retry_of_a_failed_job_queues_it_again_and_it_can_succeed(
    alice_api, alice, media_storage, tiny_model_file, django_capture_on_commit_callbacks
):
    from inference.registry import register_model

    photo = new_photo(alice)
    jobs.run(photo.restoration.pk)  # fails: no model yet
    assert Restoration.objects.get(photo=photo).status == "failed"
    register_model(tiny_model_file, name="late", serve=["best"])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = alice_api.post(retry_url(photo))

    assert response.status_code == 202
    data = response.json()
    assert (data["status"], data["progress"], data["error"], data["finished"]) == ("queued", 0.0, "", None)
    job = Restoration.objects.get(photo=photo)
    assert job.attempts == 0 and job.enqueued_at is not None
    assert len(callbacks) == 2  # the old files' delete, then the message of the released job
    jobs.run(job.pk)
    assert alice_api.get(detail_url(photo)).json()["model_name"] == "late"


@pytest.mark.parametrize("state", ["queued", "running", "succeeded"])
def test_retry_of_a_job_that_did_not_fail_is_409(alice_api, alice, media_storage, state):
    photo = new_photo(alice)
    set_job(photo, status=state, attempts=1)

    response = alice_api.post(retry_url(photo))

    assert response.status_code == 409
    assert response.json() == {"detail": f"Only a failed job can be retried; this one is {state}."}
    job = Restoration.objects.get(photo=photo)
    assert (job.status, job.attempts) == (state, 1)


# -- result --------------------------------------------------------------------

# format -> (Content-Type, Pillow's format, extension of the download name)
RESULT_FORMATS = {
    "png": ("image/png", "PNG", "png"),
    "jpeg": ("image/jpeg", "JPEG", "jpg"),
    "webp": ("image/webp", "WEBP", "webp"),
}


@pytest.mark.parametrize("chosen", RESULT_FORMATS)
def test_result_in_each_format(alice_api, finished, chosen):
    content_type, image_format, extension = RESULT_FORMATS[chosen]

    response = alice_api.get(result_url(finished), {"format": chosen})

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="street-deblurred.{extension}"'
    image = image_of(body(response))
    assert (image.format, image.size) == (image_format, (96, 64))


def test_result_is_png_by_default_and_named_after_the_upload(alice_api, alice, active_model):
    photo = processed(alice, "Holiday 2024.final.HEIC")

    response = alice_api.get(result_url(photo))

    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="Holiday 2024.final-deblurred.png"'
    with photo.restoration.result.open("rb") as stored:
        assert body(response) == stored.read()


def test_result_in_an_unknown_format_is_400(alice_api, finished):
    response = alice_api.get(result_url(finished), {"format": "gif"})

    assert response.status_code == 400
    assert response.json() == {"format": ["Choose one of: png, jpeg, webp."]}


@pytest.mark.parametrize("state", ["queued", "running", "failed"])
def test_result_before_success_is_409(alice_api, alice, media_storage, state):
    photo = new_photo(alice)
    set_job(photo, status=state)

    response = alice_api.get(result_url(photo))

    assert response.status_code == 409
    assert response.json() == {"detail": f"There is no result yet: the job is {state}."}


def test_an_image_accept_header_does_not_make_the_result_406(alice_api, alice, finished):
    ok = alice_api.get(result_url(finished), HTTP_ACCEPT="image/png")
    webp = alice_api.get(result_url(finished), {"format": "webp"}, HTTP_ACCEPT="image/png")
    pending = new_photo(alice)
    conflict = alice_api.get(result_url(pending), HTTP_ACCEPT="image/png")

    assert ok.status_code == 200 and ok["Content-Type"] == "image/png"
    assert webp.status_code == 200 and webp["Content-Type"] == "image/webp"
    assert conflict.status_code == 409 and conflict["Content-Type"] == "application/json"


# -- models --------------------------------------------------------------------


def test_models_lists_the_four_choices_with_no_model_while_none_is_installed(db):
    from gallery.uploads import CHOICE_HELP

    response = api_as().get(MODELS)

    assert response.status_code == 200
    kernel_engine = {
        "needs_model": False, "available": True, "seconds_per_megapixel": kernels.FULL.seconds_per_megapixel, "model": None,
    }  # fmt: skip
    learned = {"needs_model": True, "available": False, "seconds_per_megapixel": None, "model": None}
    assert response.json() == [
        {"key": "auto", "label": "Auto", "description": CHOICE_HELP["auto"], **kernel_engine},
        {"key": "best", "label": "Best quality", "description": CHOICE_HELP["best"], **learned},
        {"key": "fast", "label": "Fast", "description": CHOICE_HELP["fast"], **learned},
        {"key": "shake", "label": "Camera shake", "description": CHOICE_HELP["shake"], **kernel_engine},
    ]


def test_models_describes_the_model_serving_each_choice(two_models):
    from inference import speed

    best = two_models["best"]
    best.metrics = {"gopro_real": {"model_psnr": 25.1}, "seconds_per_megapixel_cpu2": 30.0}
    best.provenance = {"licence": "MIT", "notice": "Copyright (c) 2018 Xin Tao", "seen_in_training": ["gopro-real"]}
    best.save()
    speed.record(two_models["fast"], "cpu", seconds=2.0, megapixels=4.0)

    data = api_as().get(MODELS).json()

    assert [(choice["key"], choice["label"], (choice["model"] or {}).get("name")) for choice in data] == [
        ("auto", "Auto", None),
        ("best", "Best quality", "tiny-best"),
        ("fast", "Fast", "tiny-fast"),
        ("shake", "Camera shake", None),
    ]
    assert [choice["available"] for choice in data] == [True, True, True, True]
    served_best, served_fast = data[1]["model"], data[2]["model"]
    assert served_best["architecture"] == "nafnet" and served_best["parameter_count"] == best.parameter_count
    assert served_best["metrics"] == best.metrics and served_best["notes"] == "The tiny NAFNet. For tests."
    assert served_best["seen_in_training"] == ["gopro-real"]
    assert (served_best["licence"], served_best["notice"]) == ("MIT", "Copyright (c) 2018 Xin Tao")
    assert (served_best["seconds_per_megapixel"], served_best["worker_kind"]) == (30.0, "cpu2")
    assert served_fast["architecture"] == "deblurgan"
    assert (served_fast["seconds_per_megapixel"], served_fast["worker_kind"]) == (0.5, "cpu")
    assert served_fast["seen_in_training"] == [] and served_fast["licence"] is None


def test_models_lists_a_choice_without_a_model_as_null(db, media_storage, tiny_model_file):
    from inference.registry import register_model

    register_model(tiny_model_file, name="fast-only", serve=["fast"])

    data = {choice["key"]: choice for choice in api_as().get(MODELS).json()}

    assert data["best"]["model"] is None and not data["best"]["available"]
    assert data["fast"]["model"]["name"] == "fast-only" and data["fast"]["available"]


def test_active_model_is_404_json_when_none_is_installed(db):
    response = api_as().get(ACTIVE_MODEL)

    assert response.status_code == 404
    assert response.json() == {"detail": "No model is installed yet."}


def test_active_model_needs_no_credentials(active_model):
    active_model.metrics = {"psnr": 27.5, "ssim": 0.84}
    active_model.save()

    response = api_as().get(ACTIVE_MODEL)

    assert response.status_code == 200
    data = response.json()
    assert data["name"] == "tiny-test"
    assert data["architecture"] == active_model.architecture == "nafnet"
    assert data["parameter_count"] == active_model.parameter_count > 0
    assert data["metrics"] == {"psnr": 27.5, "ssim": 0.84}


def test_active_model_is_the_one_serving_best(two_models, alice_api):
    assert alice_api.get(ACTIVE_MODEL).json()["name"] == "tiny-best"

    two_models["fast"].promote("best")

    assert alice_api.get(ACTIVE_MODEL).json()["name"] == "tiny-fast"


# -- errors outside the views --------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/photos/not-a-uuid/", "/api/v1/nothing-here/", "/api/v1/photos/x/result/"])
def test_unknown_api_url_is_json_404(alice_api, settings, path):
    assert settings.DEBUG is False

    response = alice_api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_unknown_site_url_is_still_a_page(client, db):
    response = client.get("/photos/not-a-uuid/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# -- the web page's download links ---------------------------------------------


def test_web_detail_page_offers_the_webp_result(alice_client, finished):
    page = alice_client.get(reverse("gallery:detail", args=[finished.pk])).content.decode()
    href = re.search(r'id="download-webp" href="([^"]+)"', page).group(1).replace("&amp;", "&")

    response = alice_client.get(href)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Content-Disposition"] == 'attachment; filename="street-deblurred.webp"'
    image = image_of(body(response))
    assert (image.format, image.size) == ("WEBP", (96, 64))
