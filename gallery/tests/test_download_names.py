"""Downloads keep a hostile or non-ASCII file name whole, on the filesystem and through
S3's presigned URLs (whose Content-Disposition the S3 server answers as the site built it):
read back by an RFC 6266 parser and by Chromium."""

from email.message import Message
from pathlib import PurePath

import pytest
import requests
from django.urls import reverse
from django.utils.http import content_disposition_header

from conftest import PASSWORD

from .conftest import succeeded_photo

# A name that, pasted into the header unquoted, closes the quoted filename and adds a
# filename* that wins in browsers; and one beyond ASCII, which S3's signing cannot carry raw.
HOSTILE_NAMES = ["evil\"; filename*=UTF-8''evil.html.png", "Zürich — été 東京.png"]


def parsed_filename(disposition: str) -> str:
    header = Message()
    header["Content-Disposition"] = disposition
    return header.get_filename()


def downloads(photo) -> dict[str, str]:
    """The photo's download URLs and the names they must carry."""
    stem = PurePath(photo.original_name).stem
    return {
        reverse("gallery:file", args=[photo.pk, "result-png"]) + "?download=1": f"{stem}-deblurred.png",
        # The original as it was uploaded: a JPEG, whatever its name said.
        reverse("gallery:file", args=[photo.pk, "uploaded"]) + "?download=1": f"{stem}.jpg",
    }


def assert_names(disposition: str, name: str) -> None:
    assert disposition == content_disposition_header(True, name)
    assert parsed_filename(disposition) == name


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_filesystem_download_keeps_the_name_whole(alice, alice_client, media_storage, name):
    photo = succeeded_photo(alice, name)

    for url, expected in downloads(photo).items():
        response = alice_client.get(url)
        assert response.status_code == 200
        assert_names(response["Content-Disposition"], expected)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_s3_download_keeps_the_name_whole(alice, alice_client, s3_storage, name):
    photo = succeeded_photo(alice, name)

    for url, expected in downloads(photo).items():
        response = alice_client.get(url)
        assert response.status_code == 302
        fetched = requests.get(response["Location"], timeout=10)
        assert fetched.status_code == 200
        assert_names(fetched.headers["Content-Disposition"], expected)


@pytest.mark.django_db(transaction=True)
def test_chromium_saves_s3_downloads_under_the_names_given(live_server, alice, s3_storage, browser_page):
    photos = [succeeded_photo(alice, name, seed=seed) for seed, name in enumerate(HOSTILE_NAMES)]
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/photos/")

    saved = []
    for photo in photos:
        page.goto(f"{live_server.url}{reverse('gallery:detail', args=[photo.pk])}")
        with page.expect_download() as download:
            page.click("#download-png")
        saved.append(download.value.suggested_filename)

    # The whole name, a PNG, not "evil.html": Chromium only swaps the characters a file name
    # on disk cannot hold (" and *) for _.
    assert saved == ["evil_; filename_=UTF-8''evil.html-deblurred.png", "Zürich — été 東京-deblurred.png"]
