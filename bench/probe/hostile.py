"""Section 1: the hostile-upload corpus through the API, and a sample through the web form."""

import time

from django.conf import settings

from . import corpus
from .site import Site, csrf, message

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
