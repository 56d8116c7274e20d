import io
import re

import pytest
from django.core.files.storage import default_storage
from django.db import DataError
from django.urls import reverse
from PIL import Image

from gallery.models import Photo, Restoration
from gallery.uploads import accept_photo

from .conftest import photo_bytes, upload

UPLOAD = reverse("gallery:upload")


def stored_names(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def post(client, *files, **extra):
    return client.post(UPLOAD, {"images": list(files), **extra})


@pytest.fixture
def storage_root(media_storage):
    return media_storage / "default"


def test_upload_page_needs_login(client):
    response = client.get(UPLOAD)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_upload_page_says_no_model_installed(alice_client, media_storage):
    response = alice_client.get(UPLOAD)
    assert b"No deblurring network is installed yet. Auto and Camera shake work without one" in response.content


def test_several_photos_create_photos_and_jobs(alice_client, alice, storage_root):
    response = post(alice_client, upload("a.jpg", photo_bytes(seed=1)), upload("b.png", photo_bytes(fmt="PNG", seed=2)))

    assert response.status_code == 302
    assert response["Location"] == reverse("gallery:history")
    photos = Photo.objects.filter(owner=alice)
    assert sorted(p.original_name for p in photos) == ["a.jpg", "b.png"]
    assert Restoration.objects.filter(photo__owner=alice, status="queued").count() == 2
    for photo in photos:
        assert (photo.width, photo.height) == (96, 64)
        assert photo.bytes_stored == sum(f.size for f in photo.stored_files())
        with default_storage.open(photo.original.name) as f:
            assert Image.open(f).size == (96, 64)


def test_stored_names_are_generated_never_the_users(alice_client, alice, storage_root):
    post(alice_client, upload("../../evil name.jpg", photo_bytes()))

    photo = Photo.objects.get(owner=alice)
    assert photo.original_name == "evil name.jpg"
    names = stored_names(storage_root)
    assert names == sorted(
        [f"originals/{photo.pk}.png", f"originals/{photo.pk}-given", f"thumbnails/{photo.pk}.jpg", f"previews/{photo.pk}.jpg"]
    )


def test_reference_is_stored_with_its_photo(alice_client, alice, storage_root):
    post(alice_client, upload("blur.jpg", photo_bytes(blur=2)), reference_0=upload("sharp.png", photo_bytes(fmt="PNG")))

    photo = Photo.objects.get(owner=alice)
    assert photo.reference.name == f"originals/{photo.pk}-reference.png"
    assert default_storage.exists(photo.reference.name)


def test_reference_of_another_size_is_rejected_and_nothing_stored(alice_client, alice, storage_root):
    response = post(alice_client, upload("blur.jpg", photo_bytes()), reference_0=upload("sharp.jpg", photo_bytes(size=(64, 64))))

    assert response.status_code == 400
    assert "must be the same size as the photo (96×64); it is 64×64" in response.content.decode()
    assert not Photo.objects.exists()
    assert stored_names(storage_root) == []


BAD_FILES = {
    "empty": (b"", "the file is empty."),
    "text": (b"hello, this is not an image at all\n" * 20, "not an image type we accept"),
    "truncated": (photo_bytes(size=(300, 200))[:2000], "damaged or incomplete"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_files_are_rejected_with_a_reason_and_nothing_is_stored(alice_client, storage_root, kind):
    content, reason = BAD_FILES[kind]

    response = post(alice_client, upload(f"{kind}.jpg", content))

    assert response.status_code == 400
    assert reason in response.content.decode().lower()
    assert not Photo.objects.exists()
    assert stored_names(storage_root) == []


def test_good_files_are_kept_when_others_in_the_same_request_are_rejected(alice_client, alice, storage_root):
    response = post(alice_client, upload("good.jpg", photo_bytes()), upload("bad.jpg", b"\xff\xd8\xff garbage"))

    assert response.status_code == 302
    assert [p.original_name for p in Photo.objects.filter(owner=alice)] == ["good.jpg"]
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any(m.startswith("bad.jpg: ") for m in messages)


def test_too_many_pixels_is_rejected(alice_client, settings, storage_root):
    settings.UPLOAD_MAX_PIXELS = 96 * 64 - 1

    response = post(alice_client, upload("big.jpg", photo_bytes()))

    assert response.status_code == 400
    assert not Photo.objects.exists()


def test_file_over_the_size_limit_is_rejected(alice_client, settings, storage_root):
    content = photo_bytes()
    settings.UPLOAD_MAX_BYTES = len(content) - 1

    response = post(alice_client, upload("big.jpg", content))

    assert response.status_code == 400
    assert not Photo.objects.exists()


def test_too_many_files_in_one_request(alice_client, settings, storage_root):
    settings.UPLOAD_MAX_FILES = 2

    response = post(alice_client, *[upload(f"{i}.jpg", photo_bytes(seed=i)) for i in range(3)])

    assert response.status_code == 400
    assert "At most 2 files at a time; you sent 3." in response.content.decode()
    assert not Photo.objects.exists()


def test_quota_is_enforced_per_user(alice_client, alice, bob, client, settings, storage_root):
    post(alice_client, upload("first.jpg", photo_bytes(seed=1)))
    used = Photo.objects.get(owner=alice).bytes_stored
    settings.USER_QUOTA_BYTES = used + 100

    response = post(alice_client, upload("second.jpg", photo_bytes(seed=2)))

    assert response.status_code == 400
    assert "quota" in response.content.decode()
    assert Photo.objects.filter(owner=alice).count() == 1
    client.force_login(bob)
    assert post(client, upload("bobs.jpg", photo_bytes(seed=2))).status_code == 302


def test_exif_orientation_applied_and_gps_stripped(alice_client, alice, storage_root):
    image = Image.open(io.BytesIO(photo_bytes(size=(96, 64))))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)

    post(alice_client, upload("phone.jpg", buffer.getvalue()))

    photo = Photo.objects.get(owner=alice)
    assert (photo.width, photo.height) == (64, 96)
    with default_storage.open(photo.original.name) as f:
        stored = Image.open(f)
        assert stored.size == (64, 96)
        assert not stored.getexif()
        assert "exif" not in stored.info


# -- the model choice ----------------------------------------------------------


def model_choice(page: str) -> str:
    """The model choice's fieldset in the upload page."""
    return page[page.index('<fieldset id="model-choice">') : page.index('<fieldset id="references">')]


def test_upload_page_offers_both_choices_with_their_models_and_speed(alice_client, two_models):
    from inference import speed

    speed.record(two_models["fast"], "cpu", seconds=3.0, megapixels=1.0)
    two_models["best"].provenance = {"summary": "SRN-DeblurNet, trained on real street-scene motion blur; slower"}
    two_models["best"].metrics = {"seconds_per_megapixel_cpu2": 39.5}
    two_models["best"].save()

    page = alice_client.get(UPLOAD).content.decode()

    fieldset = model_choice(page)
    values = [value for value in ("auto", "best", "fast", "shake") if f'value="{value}"' in fieldset]
    assert values == ["auto", "best", "fast", "shake"] and "disabled" not in fieldset
    assert 'value="auto" id="id_model_0" checked' in fieldset  # Auto, the default
    assert "Street scenes, moving things." in fieldset
    assert "tiny-best" in fieldset and "SRN-DeblurNet, trained on real street-scene motion blur; slower" in fieldset
    assert "About 40 s per megapixel, as measured for its model card (cpu2)." in fieldset
    assert "tiny-fast" in fieldset and "The tiny DeblurGAN" in fieldset
    assert "About 3 s per megapixel on this site&#x27;s workers (CPU)." in fieldset
    assert "No deblurring network is installed" not in page
    assert "About 3.8 s plus 1.75 s per megapixel." in fieldset  # Camera shake: the kernel engine


def test_a_choice_without_a_model_is_disabled_and_says_why(alice_client, media_storage, tiny_model_file):
    from inference.registry import register_model

    register_model(tiny_model_file, name="fast-only", serve=["fast"])

    fieldset = model_choice(alice_client.get(UPLOAD).content.decode())

    options = {re.search(r'value="(\w+)"', option)[1]: option for option in fieldset.split("<label")[1:]}
    assert "disabled" in options["best"] and "No model serves this choice yet" in options["best"]
    assert 'id="id_model_0" checked' in options["auto"]  # Auto, the default, needs no model
    assert "fast-only" in options["fast"]
    assert not any("disabled" in options[key] for key in ("auto", "fast", "shake"))


def test_upload_for_the_fast_model(alice_client, alice, two_models):
    response = post(alice_client, upload("a.jpg", photo_bytes()), model="fast")

    assert response.status_code == 302
    assert Restoration.objects.get(photo__owner=alice).choice == "fast"


def test_upload_without_a_choice_is_for_auto(alice_client, alice, two_models):
    post(alice_client, upload("a.jpg", photo_bytes()))

    assert Restoration.objects.get(photo__owner=alice).choice == "auto"


@pytest.mark.parametrize(
    "choice, message",
    [
        (
            "fast",
            "No model serves &quot;Fast&quot; yet. "
            "Choose &quot;Auto&quot; (auto), &quot;Best quality&quot; (best) or &quot;Camera shake&quot; (shake).",
        ),
        ("turbo", "Choose &quot;auto&quot;, &quot;best&quot;, &quot;fast&quot; or &quot;shake&quot;, not &quot;turbo&quot;."),
    ],
)
def test_a_choice_without_a_model_or_unknown_is_refused(alice_client, storage_root, tiny_model_file, choice, message):
    from inference.registry import register_model

    register_model(tiny_model_file, name="best-only", serve=["best"])

    response = post(alice_client, upload("a.jpg", photo_bytes()), model=choice)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Photo.objects.exists() and stored_names(storage_root) == []


def test_photos_under_the_minimum_size_are_refused_with_their_size(alice_client, settings, storage_root):
    response = post(alice_client, upload("tiny.png", photo_bytes(size=(20, 18), fmt="PNG")))

    assert response.status_code == 400
    assert "The image is 20×18 pixels; photos must be at least 32 pixels on each side." in response.content.decode()
    assert not Photo.objects.exists()
    settings.UPLOAD_MIN_SIDE = 16
    assert post(alice_client, upload("tiny.png", photo_bytes(size=(20, 18), fmt="PNG"))).status_code == 302


# -- the page's script: one photo (and its reference) per request, answered in JSON ----------


def post_json(client, image, **extra):
    return client.post(UPLOAD, {"images": [image], **extra}, HTTP_ACCEPT="application/json")


def test_json_upload_answers_with_the_queued_photo_and_its_reference(alice_client, alice, storage_root):
    response = post_json(
        alice_client, upload("street.jpg", photo_bytes(blur=2)), reference_0=upload("street-sharp.png", photo_bytes(fmt="PNG"))
    )

    assert response.status_code == 201
    photo = Photo.objects.get(owner=alice)
    assert response.json() == {"id": str(photo.pk), "url": reverse("gallery:detail", args=[photo.pk]), "notes": []}
    assert photo.original_name == "street.jpg" and default_storage.exists(photo.reference.name)
    assert photo.restoration.status == Restoration.Status.QUEUED
    assert not list(response.wsgi_request._messages)  # the messages come once all are sent


@pytest.mark.parametrize(
    "reference, says",
    [
        (photo_bytes(size=(64, 64), fmt="PNG"), "must be the same size as the photo (96×64); it is 64×64"),
        (BAD_FILES["truncated"][0], "damaged or incomplete"),
    ],
)
def test_json_upload_says_when_the_reference_is_at_fault(alice_client, storage_root, reference, says):
    response = post_json(alice_client, upload("street.jpg", photo_bytes()), reference_0=upload("street-sharp.png", reference))

    assert response.status_code == 400
    assert response.json()["field"] == "reference"
    assert says in response.json()["error"]
    assert not Photo.objects.exists() and stored_names(storage_root) == []


def test_json_upload_says_when_the_photo_is_at_fault(alice_client, storage_root):
    bad = post_json(alice_client, upload("street.jpg", BAD_FILES["truncated"][0]), reference_0=upload("s.png", photo_bytes()))
    missing = alice_client.post(UPLOAD, {}, HTTP_ACCEPT="application/json")

    assert bad.status_code == 400
    assert (bad.json()["field"], bad.json()["code"]) == ("image", "corrupt")
    assert "damaged or incomplete" in bad.json()["error"]
    assert missing.status_code == 400 and missing.json() == {"field": "image", "error": "This field is required."}
    assert not Photo.objects.exists()


def test_after_the_script_sent_them_the_history_says_how_many_were_queued(alice_client, alice, bob, storage_root):
    ids = [post_json(alice_client, upload(f"{i}.jpg", photo_bytes(seed=i))).json()["id"] for i in range(2)]
    bobs = accept_photo(bob, upload("bobs.jpg", photo_bytes()), original_name="bobs.jpg")

    response = alice_client.post(reverse("gallery:upload-done"), {"ids": [*ids, str(bobs.pk), "not-an-id"]}, follow=True)

    assert response.redirect_chain == [(reverse("gallery:history"), 302)]
    assert [str(m) for m in response.context["messages"]] == ["2 photos queued for deblurring."]


@pytest.mark.django_db(transaction=True)
def test_a_photo_whose_rows_cannot_be_written_leaves_no_files(alice, storage_root):
    # PostgreSQL refuses a NUL in text: the files are written, then the rows fail.
    with pytest.raises(DataError):
        accept_photo(alice, upload("street.jpg", photo_bytes()), original_name="street\x00.jpg")

    assert not Photo.objects.exists()
    assert stored_names(storage_root) == []
