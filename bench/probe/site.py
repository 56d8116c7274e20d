"""The probe's side of the site: HTTP clients for its API and web pages, and what it reads
directly (rows through the ORM, objects through boto3 straight to the S3 server)."""

import email.message
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import boto3
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from .stack import BUCKETS, Stack

PASSWORD = "correct horse battery staple"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DONE = ("succeeded", "failed", "cancelled")


@dataclass
class Result:
    section: str
    case: str
    expected: str
    got: str
    ok: bool


@dataclass
class Site:
    stack: Stack
    base: str
    results: list[Result] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    _next_address: int = 1

    def __post_init__(self) -> None:
        self.s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.stack.ports.moto}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def record(self, section: str, case: str, expected: str, got: str, ok: bool) -> bool:
        self.results.append(Result(section, case, expected, got, ok))
        print(f"  {'PASS' if ok else 'FAIL'}  {case}: {got}", flush=True)
        return ok

    # --- clients -------------------------------------------------------------------------
    def address(self) -> str:
        """A client address of its own (X-Forwarded-For, one proxy trusted), so that
        per-client limits of one case do not spill into the next."""
        self._next_address += 1
        return f"198.51.{self._next_address // 250}.{self._next_address % 250 + 1}"

    def anonymous(self, base: str | None = None) -> requests.Session:
        session = requests.Session()
        session.headers["X-Forwarded-For"] = self.address()
        session.base = base or self.base
        return session

    def user(self, name: str, **flags: bool):
        """A user; flags such as is_staff=True or is_superuser=True."""
        return get_user_model().objects.create_user(name, f"{name}@example.com", PASSWORD, **flags)

    def api(self, user, base: str | None = None) -> requests.Session:
        from accounts.tokens import issue_token

        session = self.anonymous(base)
        session.token = issue_token(user, "probe")[1]
        session.headers["Authorization"] = f"Token {session.token}"
        return session

    def web(self, user, base: str | None = None) -> requests.Session:
        session = self.anonymous(base)
        response = self.login(session, user.username, PASSWORD)
        if response.status_code != 302:
            raise RuntimeError(f"web login of {user.username} answered {response.status_code}")
        return session

    def login(self, session: requests.Session, username: str, password: str) -> requests.Response:
        session.get(f"{session.base}/accounts/login/", timeout=30)
        return session.post(
            f"{session.base}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf(session)},
            allow_redirects=False,
            timeout=30,
        )

    def upload(self, api: requests.Session, filename: str, data: bytes, **kw) -> requests.Response:
        return api.post(
            f"{api.base}/api/v1/photos/", files={"image": (filename, data, "application/octet-stream")}, timeout=120, **kw
        )

    def form_upload(
        self, web: requests.Session, filename: str, data: bytes, choice: str = "best", timeout: float = 120
    ) -> requests.Response:
        """One photo through the upload page, as its script sends it (a JSON answer)."""
        return web.post(
            f"{web.base}/photos/upload/",
            files={"images": (filename, data, "application/octet-stream")},
            data={"model": choice},
            headers={"Accept": "application/json", "X-CSRFToken": csrf(web)},
            timeout=timeout,
        )

    # --- what is stored ------------------------------------------------------------------
    def keys(self) -> set[str]:
        keys: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKETS["media"]):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys

    def photo_ids(self) -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM gallery_photo")
            return {str(row[0]) for row in cursor.fetchall()}

    def orphans(self) -> set[str]:
        """Objects no photo row refers to (by the photo id in their generated name)."""
        ids = self.photo_ids()
        return {key for key in self.keys() if (found := UUID.search(key)) is None or found.group() not in ids}

    def keys_of(self, photo_id: str) -> set[str]:
        return {key for key in self.keys() if photo_id in key}

    def job(self, photo_id: str) -> dict:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT status, attempts, progress, heartbeat_at, error, queue FROM gallery_restoration WHERE photo_id = %s",
                [photo_id],
            )
            row = cursor.fetchone()
        return dict(zip(("status", "attempts", "progress", "heartbeat_at", "error", "queue"), row)) if row else {}

    def wait_job(self, photo_id: str, until: tuple[str, ...] = DONE, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(photo_id)
            if job.get("status") in until:
                return job
            time.sleep(0.5)
        return self.job(photo_id)

    def run_beat_tasks(self) -> list[str]:
        """Every periodic task beat runs, sent now (the sweep among them, once it exists)."""
        from deblursite.celery import app

        names = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
        for name in names:
            app.send_task(name)
        return names


def csrf(session: requests.Session) -> str:
    return session.cookies.get("csrftoken", "")


def message(response: requests.Response) -> str:
    """The sentence an answer gives: the JSON's detail or first field error, else the page's text."""
    try:
        body = response.json()
    except ValueError:
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)).strip()
        return text[:140]
    if isinstance(body, dict):
        for key in ("detail", "error"):
            if isinstance(body.get(key), str):
                return body[key]
        for value in body.values():
            if isinstance(value, list) and value and isinstance(value[0], str):
                return value[0]
    return str(body)[:140]


def download_name(response: requests.Response) -> tuple[str, int]:
    """The file name a download is saved as (its Content-Disposition, or the presigned link's
    response-content-disposition, parsed as a browser's mail-style parser would), and the
    status of fetching it."""
    location = response.headers.get("Location", "")
    if 300 <= response.status_code < 400 and location:
        header = parse_qs(urlsplit(location).query).get("response-content-disposition", [""])[0]
        fetched = requests.get(location, timeout=20).status_code
    else:
        header, fetched = response.headers.get("Content-Disposition", ""), response.status_code
    parsed = email.message.Message()
    parsed["Content-Disposition"] = header
    return parsed.get_filename() or "", fetched


def multipart(fields: dict[str, str], files: list[tuple[str, bytes, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body written byte for byte, and its Content-Type header: each file
    is (field, the raw parameters after its name in Content-Disposition, content). requests
    would percent-encode a quote or a line break in a file name; an attacker's client does not."""
    boundary = f"probe{secrets.token_hex(12)}".encode()
    parts = [b'Content-Disposition: form-data; name="%s"\r\n\r\n%s' % (name.encode(), value.encode()) for name, value in fields.items()]
    parts += [
        b'Content-Disposition: form-data; name="%s"; %s\r\nContent-Type: image/png\r\n\r\n%s' % (name.encode(), params, content)
        for name, params, content in files
    ]
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts) + b"--" + boundary + b"--\r\n"
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}


def finished_photos(owner, count: int, size: tuple[int, int], strength: float) -> list:
    """Photos as the deblurring worker leaves them (rows, original and full-strength result in
    the media store) at this saved strength, made without running the net: one camera-like
    picture and its negative, encoded once and stored under each photo's own names."""
    import numpy as np
    from django.core.files.base import ContentFile
    from PIL import Image

    from gallery.models import Photo, Restoration, photo_file_names
    from inference.images import encode_png

    from .corpus import photo_like

    original = photo_like(size)
    original_png, result_png = encode_png(original), encode_png(Image.fromarray(255 - np.asarray(original)))
    photos = []
    for n in range(count):
        made = Photo.objects.create(owner=owner, original_name=f"street-{n}.jpg", width=size[0], height=size[1], mode="RGB")
        names = photo_file_names(made.pk)
        made.original.save(names["original"], ContentFile(original_png))
        job = Restoration.objects.create(photo=made, status=Restoration.Status.SUCCEEDED, progress=1.0, strength=strength)
        job.result.save(job.file_names()["result"], ContentFile(result_png))
        made.restoration = job
        made.save(update_fields=["restoration"])
        photos.append(made)
    return photos
