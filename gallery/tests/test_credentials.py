"""Content Credentials (C2PA) on every downloaded result, read back with c2pa's own reader:
who made it from what original, by what AI-assisted edit, at what strength; and downloads
without them when asked (?credentials=0)."""

import hashlib
import io
import stat
from pathlib import Path

import c2pa
import numpy as np
import pytest
import requests
from cryptography import x509
from django.urls import reverse
from PIL import Image

from gallery import blends, credentials, jobs
from gallery.downloads import save_strength
from gallery.media import read_stored
from gallery.models import Photo
from gallery.names import FORMATS
from inference.tests.image_files import camera_jpeg, encode

from .conftest import upload
from .test_api import api_as, post_photo
from .test_auto import scene, shaken

NAME = "IMG_0042.JPG"
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


@pytest.fixture
def signing_pair(settings, tmp_path):
    settings.C2PA_CERT_FILE, settings.C2PA_KEY_FILE = str(tmp_path / "signer.pem"), str(tmp_path / "signer.key")
    assert credentials.ensure_dev_pair()
    return tmp_path


def manifest(content: bytes, media_type: str) -> tuple[dict, str]:
    reader = c2pa.Reader(media_type, io.BytesIO(content))
    return reader.get_active_manifest(), reader.get_validation_state()


def shaken_jpeg() -> bytes:
    """A shaken photo as a camera saves it, EXIF and colour profile included."""
    with Image.open(io.BytesIO(camera_jpeg())) as camera:
        exif, profile = camera.info["exif"], camera.info["icc_profile"]
    return encode(Image.fromarray(shaken(scene())), "JPEG", quality=95, exif=exif, icc_profile=profile)


def deblurred(alice) -> Photo:
    """A camera JPEG through the API, deblurred for real by the kernel engine."""
    response = post_photo(api_as(alice), upload(NAME, shaken_jpeg(), "image/jpeg"), model="shake")
    photo = Photo.objects.get(pk=response.json()["id"])
    jobs.run(photo.restoration.pk)
    return Photo.objects.select_related("restoration").get(pk=photo.pk)


def edited(found: dict) -> dict:
    actions = next(a for a in found["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert [action["action"] for action in actions] == ["c2pa.opened", "c2pa.edited"]
    return actions[1]


def test_every_download_says_who_made_it_from_what_and_how(alice, media_storage, signing_pair):
    photo = deblurred(alice)
    job = photo.restoration
    assert job.status == "succeeded" and job.method == "kernel"

    for fmt, kind in FORMATS.items():
        found, state = manifest(read_stored(getattr(job, kind.field)), kind.media_type)

        assert state == "Valid", fmt
        assert found["claim_generator_info"][0]["name"] == "Deblur"
        assert found["title"] == f"IMG_0042{kind.suffix}"
        assert found["signature_info"]["common_name"] == "Deblur development signer"
        [ingredient] = found["ingredients"]
        assert (ingredient["title"], ingredient["relationship"], ingredient["format"]) == (NAME, "parentOf", "image/jpeg")
        assert ingredient["metadata"]["org.deblur.sha256"] == hashlib.sha256(read_stored(photo.given)).hexdigest()
        action = edited(found)
        assert action["digitalSourceType"] == TRAINED
        assert action["parameters"] == {"method": "kernel", "model": job.model_name, "precision": "float32", "strength": 1.0}
        assert action["when"] == job.finished_at.isoformat()
    assert job.credentials["signer"].startswith("Deblur development signer")


def test_a_photo_left_as_it_was_is_not_said_to_be_edited(alice, alice_client, media_storage, signing_pair):
    # Flat colours: nothing for the kernel engine to find, and the gate keeps the photo.
    response = post_photo(api_as(alice), upload(NAME, camera_jpeg(), "image/jpeg"), model="shake")
    photo = Photo.objects.get(pk=response.json()["id"])
    jobs.run(photo.restoration.pk)
    photo.restoration.refresh_from_db()
    assert photo.restoration.method == "none"

    found, state = manifest(read_stored(photo.restoration.result_jpeg), "image/jpeg")

    actions = next(a for a in found["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert state == "Valid" and [action["action"] for action in actions] == ["c2pa.opened", "c2pa.transcoded"]
    assert "digitalSourceType" not in actions[1]
    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()
    assert "left as it was, with no AI edit" in page and "AI-assisted" not in page


def test_a_blend_says_its_strength(alice, media_storage, signing_pair):
    job = deblurred(alice).restoration

    save_strength(job, 0.4)
    blends.render(job.pk)
    job.refresh_from_db()

    found, state = manifest(read_stored(job.blend_jpeg), "image/jpeg")
    assert state == "Valid" and edited(found)["parameters"]["strength"] == 0.4


@pytest.mark.parametrize("store", ["media_storage", "s3_storage"])
def test_credentials_0_downloads_the_same_image_without_them(request, alice, alice_client, signing_pair, store):
    request.getfixturevalue(store)
    photo = deblurred(alice)

    for fmt, kind in FORMATS.items():
        url = reverse("gallery:file", args=[photo.pk, f"result-{fmt}"])
        signed = alice_client.get(url, {"download": 1})
        signed = requests.get(signed["Location"], timeout=10).content if signed.status_code == 302 else b"".join(signed.streaming_content)
        plain = alice_client.get(url, {"download": 1, "credentials": 0})
        api = api_as(alice).get(reverse("api:photo-result", args=[photo.pk]), {"format": fmt, "credentials": 0})

        assert manifest(signed, kind.media_type)[1] == "Valid"
        assert plain["Content-Disposition"] == f'attachment; filename="IMG_0042{kind.suffix}"'
        assert plain.content == api.content and len(plain.content) < len(signed)
        with pytest.raises(c2pa.C2paError):
            c2pa.Reader(kind.media_type, io.BytesIO(plain.content))
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(plain.content))), np.asarray(Image.open(io.BytesIO(signed))))


def test_the_photo_page_says_what_the_credentials_say(alice, alice_client, media_storage, signing_pair):
    photo = deblurred(alice)

    page = alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()

    said = page[page.index('id="content-credentials"') :]
    said = said[: said.index("</dd>")]
    assert "Signed by Deblur development signer" in said and f"from {NAME}" in said
    assert photo.restoration.credentials["sha256"][:12] in said and "in float32" in said
    assert "credentials=0" in page


def test_without_a_signing_pair_results_carry_none(alice, alice_client, media_storage, settings, tmp_path):
    settings.C2PA_CERT_FILE, settings.C2PA_KEY_FILE = str(tmp_path / "none.pem"), str(tmp_path / "none.key")
    photo = deblurred(alice)

    with pytest.raises(c2pa.C2paError):
        c2pa.Reader("image/png", io.BytesIO(read_stored(photo.restoration.result)))
    assert photo.restoration.credentials == {}
    assert 'id="content-credentials"' not in alice_client.get(reverse("gallery:detail", args=[photo.pk])).content.decode()


def test_the_development_pair_is_a_signer_under_its_own_ca_and_made_once(signing_pair):
    chain = x509.load_pem_x509_certificates(Path(signing_pair / "signer.pem").read_bytes())
    key_file = signing_pair / "signer.key"

    names = [certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value for certificate in chain]
    assert names == ["Deblur development signer", "Deblur development CA"]
    assert chain[0].issuer == chain[1].subject
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert credentials.ensure_dev_pair() is False
