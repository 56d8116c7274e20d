"""A photo as its owner gave it: the uploaded file kept byte for byte, downloaded and zipped
under its own name and type, and its camera's metadata and colour profile carried into its
results, on the filesystem and on S3."""

import io
import zipfile

import numpy as np
import pytest
import requests
from django.urls import reverse
from PIL import ExifTags, Image

from gallery import archive, blends
from gallery.downloads import save_strength
from gallery.media import read_stored, read_stored_image
from gallery.models import Photo
from inference.tests.image_files import camera_jpeg, display_p3_icc, encode

from .conftest import photo_bytes, succeed, upload
from .test_api import api_as, local_path, post_photo

NAME = "IMG_0042.JPG"


@pytest.fixture(params=["filesystem", "s3"])
def storage(request):
    return request.getfixturevalue("media_storage" if request.param == "filesystem" else "s3_storage")


def uploaded(user, content: bytes, name: str = NAME, **fields) -> Photo:
    response = post_photo(api_as(user), upload(name, content, "image/jpeg"), **fields)
    assert response.status_code == 201, response.content
    return Photo.objects.get(pk=response.json()["id"])


def fetch(client, url: str) -> tuple[bytes, str, str]:
    """The body, media type and Content-Disposition a download ends in, following S3's redirect."""
    response = client.get(url)
    if response.status_code == 302:
        fetched = requests.get(response["Location"], timeout=10)
        assert fetched.status_code == 200
        return fetched.content, fetched.headers["Content-Type"], fetched.headers.get("Content-Disposition", "")
    assert response.status_code == 200
    return b"".join(response.streaming_content), response["Content-Type"], response.get("Content-Disposition", "")


def test_download_original_gives_the_file_as_uploaded_under_its_own_name(alice, alice_client, storage):
    given = camera_jpeg()
    photo = uploaded(alice, given)

    content, media_type, disposition = fetch(alice_client, reverse("gallery:file", args=[photo.pk, "uploaded"]) + "?download=1")

    assert content == given
    assert media_type == "image/jpeg"
    assert disposition == f'attachment; filename="{NAME}"'
    # The copy the site works from is another file: upright, and without metadata.
    assert Image.open(io.BytesIO(read_stored(photo.original))).size == (64, 96)
    assert photo.bytes_stored > len(given)


def test_a_file_whose_name_says_another_type_downloads_with_its_own_type(alice, alice_client, media_storage):
    photo = uploaded(alice, photo_bytes(fmt="PNG"), name="holiday.jpg")

    _, media_type, disposition = fetch(alice_client, reverse("gallery:file", args=[photo.pk, "uploaded"]) + "?download=1")

    assert (media_type, disposition) == ("image/png", 'attachment; filename="holiday.png"')


def test_the_api_links_to_the_original_as_uploaded(alice, alice_client, media_storage):
    given = camera_jpeg()
    photo = uploaded(alice, given)

    answer = api_as(alice).get(reverse("api:photo-detail", args=[photo.pk])).json()

    assert fetch(alice_client, local_path(answer["original_url"]))[0] == given
    assert Image.open(io.BytesIO(fetch(alice_client, local_path(answer["normalised_url"]))[0])).format == "PNG"


def test_the_zip_holds_the_original_as_uploaded(alice, storage):
    given = camera_jpeg()
    photo = uploaded(alice, given)
    succeed(photo)

    made = archive.request(alice, [photo])
    archive.build(str(made.pk))
    made.refresh_from_db()

    with zipfile.ZipFile(io.BytesIO(read_stored(made.file))) as zipped:
        assert sorted(zipped.namelist()) == ["IMG_0042-deblurred.png", NAME]
        assert zipped.read(NAME) == given


def results(photo: Photo) -> dict[str, Image.Image]:
    job = photo.restoration
    files = {"png": job.result, "jpeg": job.result_jpeg, "webp": job.result_webp}
    return {fmt: Image.open(io.BytesIO(read_stored(file))) for fmt, file in files.items()}


def test_results_carry_the_cameras_exif_upright_without_gps_and_its_colour_profile(alice, storage):
    photo = uploaded(alice, camera_jpeg())
    succeed(photo)
    photo.refresh_from_db()

    for fmt, result in results(photo).items():
        exif = result.getexif()
        assert (exif[ExifTags.Base.Model], exif[ExifTags.Base.Orientation]) == ("EOS R6", 1), fmt
        assert exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == "2026:11:30 10:11:12", fmt
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo), fmt
        assert result.info["icc_profile"] == display_p3_icc(), fmt
    # The pages' pictures are for screens: sRGB, no metadata.
    preview = Image.open(io.BytesIO(read_stored(photo.restoration.result_preview)))
    assert "icc_profile" not in preview.info and not preview.getexif()


def test_results_keep_the_location_when_the_owner_asks(alice, media_storage):
    photo = uploaded(alice, camera_jpeg(), keep_location="true")
    succeed(photo)
    photo.refresh_from_db()

    assert results(photo)["jpeg"].getexif().get_ifd(ExifTags.IFD.GPSInfo)[1] == "N"
    assert "Location (GPS) metadata removed." not in photo.notes


def test_a_blend_is_made_in_srgb_and_written_in_the_photos_colour_space(alice, media_storage):
    photo = uploaded(alice, camera_jpeg())
    succeed(photo)
    job = photo.restoration
    job.refresh_from_db()

    save_strength(job, 0.5)
    blends.render(job.pk)
    job.refresh_from_db()

    stored = Image.open(io.BytesIO(read_stored(job.blend_png)))
    assert stored.info["icc_profile"] == display_p3_icc()
    assert stored.getexif()[ExifTags.Base.Model] == "EOS R6"
    before, after = (np.asarray(read_stored_image(file)).astype(float) for file in (photo.original, job.result))
    expected = np.rint(before + 0.5 * (after - before))
    assert np.abs(np.asarray(read_stored_image(job.blend_png)) - expected).max() <= 2


def test_a_photo_without_metadata_gives_results_without_any(alice, media_storage):
    photo = uploaded(alice, encode(Image.open(io.BytesIO(photo_bytes())), "PNG"), name="plain.png")
    succeed(photo)

    for result in results(photo).values():
        assert "icc_profile" not in result.info and not result.getexif()
