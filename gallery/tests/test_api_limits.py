"""The API takes what it reads: one image and one reference at most, a body no bigger than
they can need, refused before it is spooled."""

import http.client
import io
import json
import socket
from urllib.parse import urlparse

import pytest
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, encode_multipart

from deblursite.api_errors import RequestTooLarge
from deblursite.middleware import BodyLimitUploadHandler
from gallery.models import Photo

from .conftest import photo_bytes, upload
from .test_api import LIST, api_as

MB = 2**20


def send_partly(url: str, declared: int, sent: int) -> tuple[int, dict]:
    """POST an upload that declares `declared` bytes, send only `sent` of them, and read the
    answer: a server that waited for the whole body would never answer."""
    parts = urlparse(url)
    head = (
        f"POST /api/v1/photos/ HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {declared}\r\n\r\n"
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="huge.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(head + b"\0" * (sent - len(head)))
        # No more is coming: the server's read of the rest ends, and it closes after its answer.
        conn.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(conn)
        response.begin()
        return response.status, json.loads(response.read())


@pytest.mark.django_db(transaction=True)
def test_a_300_mb_upload_is_refused_before_its_body_is_read(live_server, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)

    status, body = send_partly(live_server.url, declared=300 * MB, sent=256 * 1024)

    assert status == 413
    # Two 25 MB files and a megabyte for the rest of the form; the web form's 1 GB is not the API's.
    assert body == {"detail": "Request too large: at most 51.0 MB per request."}
    assert list(tmp_path.iterdir()) == []


def test_a_body_longer_than_it_declares_is_stopped_by_the_running_count(rf, settings, tmp_path):
    """A server that does not cut the stream at Content-Length (or a body without one): the
    upload handler counts what arrives and stops reading at the limit."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    body = encode_multipart(BOUNDARY, {"image": upload("huge.png", b"\0" * (3 * MB))})
    request = rf.post(LIST)
    stream = io.BytesIO(body)
    handlers = [BodyLimitUploadHandler(request, MB), TemporaryFileUploadHandler(request)]

    with pytest.raises(RequestTooLarge, match=r"at most 1\.0 MB per request"):
        MultiPartParser({**request.META, "CONTENT_LENGTH": "1000"}, stream, handlers).parse()

    assert stream.tell() < 1.5 * MB


@pytest.mark.parametrize("field", ["image", "reference"])
def test_a_second_file_of_a_kind_is_400_not_the_last_one_wins(alice, media_storage, field):
    files = {"image": upload("a.jpg", photo_bytes())}
    files[field] = [upload("a.jpg", photo_bytes()), upload("b.jpg", photo_bytes(seed=1))]

    response = api_as(alice).post(LIST, files, format="multipart")

    assert response.status_code == 400
    assert response.json() == {field: [f"Send one {field} per upload; this request has 2 parts named {field}."]}
    assert not Photo.all_objects.exists()
    assert not any(media_storage.rglob("*.*"))
