"""Section 1: the hostile-upload corpus through the API, and a sample through the web form;
then hostile file names written raw into the multipart body, through both."""

import re
import time
from pathlib import PurePosixPath
from urllib.parse import unquote

from django.conf import settings

from . import corpus
from .site import Site, csrf, download_name, message, multipart

SECTION = "hostile uploads"
# Sent through the web form too (the page's script way, one photo a request, JSON answer).
WEB_SAMPLE = (
    "zero bytes",
    "truncated PNG",
    "SVG with a script",
    "decompression bomb 40000x40000",
    "over UPLOAD_MAX_BYTES",
    "CMYK JPEG",
    "path traversal name",
)


def run(site: Site) -> None:
    api = site.api(site.user("mallory"))
    cases = corpus.cases(settings.UPLOAD_MAX_BYTES, settings.UPLOAD_MAX_PIXELS, settings.UPLOAD_MIN_SIDE)
    started = time.monotonic()
    for case in cases:
        before_orphans, before_rows = site.orphans(), len(site.photo_ids())
        response = api.post(
            f"{site.base}/api/v1/photos/", files={"image": (case.filename, case.data, case.content_type)}, timeout=120
        )
        _judge(site, f"API: {case.name}", case, response, before_orphans, before_rows)
    site.figures["hostile uploads (API)"] = f"{len(cases)} cases in {time.monotonic() - started:.1f} s"

    web = site.web(site.user("mallory-web"))
    by_name = {case.name: case for case in cases}
    for name in WEB_SAMPLE:
        case = by_name[name]
        before_orphans, before_rows = site.orphans(), len(site.photo_ids())
        response = web.post(
            f"{site.base}/photos/upload/",
            files={"images": (case.filename, case.data, case.content_type)},
            data={"model": "best"},
            headers={"Accept": "application/json", "X-CSRFToken": csrf(web)},
            timeout=120,
        )
        _judge(site, f"web form: {case.name}", case, response, before_orphans, before_rows)
    _plain_form_refusal(site, web, by_name["truncated PNG"])
    _raw_names(site)
    _stored_names(site)


def _judge(site: Site, label: str, case: corpus.Case, response, before_orphans: set, before_rows: int) -> None:
    status, sentence = response.status_code, message(response)
    left = site.orphans() - before_orphans
    rows = len(site.photo_ids()) - before_rows
    if status == 201:
        problem, stored = _check_accepted(case, response.json()["id"])
        ok = case.expect in ("accepted", "either") and rows == 1 and not problem
        got = f"201 {problem or 'accepted'}; {stored}"
    else:
        ok = case.expect in ("refused", "either") and 400 <= status < 500 and bool(sentence) and not left and rows == 0
        got = f"{status} {sentence!r}" + (f"; left behind: {len(left)} objects, {rows} rows" if left or rows else "; nothing left")
    site.record(SECTION, label, case.expect + (f" ({case.note})" if case.note else ""), got, ok)


def _check_accepted(case: corpus.Case, photo_id: str) -> tuple[str, str]:
    """What is wrong with an accepted upload (read from its row and stored original), or '';
    and what was stored, in words."""
    from gallery.models import Photo

    photo = Photo._base_manager.get(pk=photo_id)
    shown = photo.original_name if len(photo.original_name) < 50 else f"{photo.original_name[:20]}…({len(photo.original_name)} chars)"
    stored = f"{photo.width}x{photo.height} {photo.mode} as {shown!r}" + (f", notes: {' '.join(photo.notes)}" if photo.notes else "")
    return _problem(case, photo), stored[:160]


def _problem(case: corpus.Case, photo) -> str:
    notes = " ".join(photo.notes)
    if case.note == "stored original has no script":
        with photo.original.open("rb") as original:
            return "the stored original keeps the script" if b"<script" in original.read() else ""
    if case.note == "stored upright 64x96":
        return "" if (photo.width, photo.height) == (64, 96) else f"stored as {photo.width}x{photo.height}"
    if case.note == "note on frames":
        return "" if "images" in notes else f"no note on its frames ({notes!r})"
    if case.note == "note on GPS":
        return "" if "GPS" in notes else f"no note on GPS ({notes!r})"
    if case.note == "name has no path":
        return "" if "/" not in photo.original_name else f"kept the path: {photo.original_name!r}"
    return ""


def _plain_form_refusal(site: Site, web, case: corpus.Case) -> None:
    """The form without the page's script: the page again, 400, with the reason on it."""
    response = web.post(
        f"{site.base}/photos/upload/",
        files={"images": (case.filename, case.data, case.content_type)},
        data={"model": "best", "csrfmiddlewaretoken": csrf(web)},
        allow_redirects=False,
        timeout=60,
    )
    ok = response.status_code == 400 and "cut.png" in response.text
    site.record(SECTION, "plain web form: truncated PNG", "400, the form again naming the file", f"{response.status_code} {'names the file' if 'cut.png' in response.text else 'does not name the file'}", ok)


def _stored_names(site: Site) -> None:
    """Whatever the names sent, every object is under a generated name of a known folder."""
    prefixes = ("originals/", "thumbnails/", "previews/", "results/")
    odd = sorted(key for key in site.keys() if not key.startswith(prefixes))
    site.record(SECTION, "stored object names", "only originals/ thumbnails/ previews/ results/", f"{len(odd)} others {odd[:3]}", not odd)


# Content-Disposition parameters as a hostile client writes them, raw (after name="image"; ).
RAW_NAMES = {
    'a raw "': b'filename="a"b.png"',
    'an escaped \\"': b'filename="a\\"b.png"',
    "CR LF and a header after it": b'filename="a.png\r\nContent-Type: text/html\r\nX-Evil: ".png"',
    "a bare LF": b'filename="a\nb.png"',
    "a bare CR": b'filename="a\rb.png"',
    "an unquoted ;": b"filename=a;b.png",
    "a quoted ; and =": b'filename="a; filename=evil.html; b=.png"',
    "a Windows path": b'filename="C:\\Users\\eve\\Pictures\\cat.png"',
    "backslash traversal": b'filename="..\\..\\windows\\win.ini.png"',
    "filename* alone": b"filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE.png",
    "filename and filename*": b"filename=\"plain.png\"; filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE.png",
    "filename* with a path and CR LF": b"filename*=UTF-8''..%2F..%2Fetc%2Fpasswd%0D%0A.png",
    "filename* with NUL": b"filename*=UTF-8''a%00b.png",
    "a raw NUL": b'filename="a\x00b.png"',
    "two filenames": b'filename="good.png"; filename="evil.html"',
    "raw UTF-8 with quotes": 'filename="фото "照片".png"'.encode(),
    "invalid UTF-8": b'filename="\xff\xfe.png"',
    "8000 characters": b'filename="' + b"x" * 8000 + b'.png"',
}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _raw_names(site: Site) -> None:
    """Every name gets a 201 whose stored name has no path and no control character, and whose
    downloads save as <stem>-deblurred.png; or a 4xx with a sentence. Never a 5xx."""
    user = site.user("rawnames")
    api, web = site.api(user), site.web(user)
    png = corpus.encode(corpus.photo(), "PNG")
    routes = {
        "API": (f"{site.base}/api/v1/photos/", api, "image", {}, {}),
        "web form": (f"{site.base}/photos/upload/", web, "images", {"model": "best"}, {"Accept": "application/json"}),
    }
    for label, params in RAW_NAMES.items():
        for route, (url, client, field, fields, headers) in routes.items():
            body, content_type = multipart(fields, [(field, params, png)])
            sent = {**headers, **content_type, "X-CSRFToken": csrf(client)}
            try:
                response = client.post(url, data=body, headers=sent, timeout=60)
            except Exception as exc:  # a dropped connection is a finding too
                site.record(SECTION, f"raw name, {route}: {label}", "201 with a clean name, or 4xx with a sentence", f"{type(exc).__name__}: {exc}"[:140], False)
                continue
            if response.status_code == 201:
                ok, got = _judge_raw_name(site, response.json()["id"], api, web)
            else:
                said = message(response)
                ok = 400 <= response.status_code < 500 and len(said) > 10
                got = f"{response.status_code} {said!r}"
            site.record(SECTION, f"raw name, {route}: {label}", "201 with a clean name saved as <stem>-deblurred.png, or 4xx with a sentence", got, ok)


def _judge_raw_name(site: Site, photo_id: str, api, web) -> tuple[bool, str]:
    from gallery.models import Photo

    stored = Photo._base_manager.get(pk=photo_id).original_name
    problems = [why for why, bad in (("a path", "/" in stored or "\\" in stored), ("a control character", bool(CONTROL.search(stored)))) if bad]
    job = site.wait_job(photo_id, timeout=120)
    expected = f"{PurePosixPath(stored).stem}-deblurred.png"
    saved = []
    for where, url, client in (
        ("API", f"{site.base}/api/v1/photos/{photo_id}/result/", api),
        ("web", f"{site.base}/photos/{photo_id}/files/result-png?download=1", web),
    ):
        name, fetched = download_name(client.get(url, allow_redirects=False, timeout=30))
        saved.append(f"{where} {name[:40]!r} ({fetched})")
        # A quote may come back percent-encoded in the plain filename parameter.
        if expected not in (name, unquote(name)) or fetched != 200 or CONTROL.search(name):
            problems.append(f"{where} download saved as {name[:40]!r}, fetch {fetched}")
    shown = stored if len(stored) < 40 else f"{stored[:16]}…({len(stored)} chars)"
    got = f"201 stored as {shown!r}, job {job.get('status')}; " + ("; ".join(problems) if problems else "saved as " + ", ".join(saved))
    return not problems and job.get("status") == "succeeded", got[:220]
