"""Section 6: the cases of issue 21 (N1-N10) on the running stack: decode-cost bombs while
another user reads, a ZIP of 30 photos of 12 MP, 50 blended downloads at once, many accounts
from one address, staff ingestion of server folders, an unusable password and its tokens,
the sliding upload window, the store down, and a bad model in the admin."""

import re
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import requests.adapters
from django.conf import settings

from deblursite.tests.faults import FaultProxy

from .corpus import bilevel_png, camera_files, decode_bombs, encode, photo
from .load import Load, bystanders
from .site import Site, csrf, finished_photos, message
from .stack import REPO

SECTION = "issue 21"
# Issue 21's "done when": a bomb refused this fast, other users' pages answering this fast.
REFUSED_WITHIN, BYSTANDER_P99 = 2.0, 1.0
ZIP_PHOTOS, ZIP_SIZE, ZIP_STRENGTH = 30, (4000, 3000), 0.5
BLENDED_DOWNLOADS, BLEND_STRENGTH = 50, 0.7


def run(site: Site, proxy: FaultProxy) -> None:
    _decode_bombs(site)
    _camera_photos(site)
    zipped = _zip_of_large_photos(site)
    _blended_downloads(site, zipped)
    _address_caps(site)
    _ingestion(site)
    _make_run_roots(site)
    _unusable_password(site)
    _sliding_window(site)
    _store_down(site, proxy, zipped)
    _model_upload(site)


def _bystanders_ok(site: Site, case: str, loads: dict[str, Load]) -> None:
    for page, seen in loads.items():
        ok = bool(seen.latencies) and not seen.errors and seen.percentile(0.99) < BYSTANDER_P99
        got = f"p50 {seen.percentile(0.5) * 1000:.0f} ms, p99 {seen.percentile(0.99) * 1000:.0f} ms, {seen.answers} answers, {len(seen.errors)} errors {sorted(set(seen.errors))[:3]}"
        site.record(SECTION, f"{case}: another user's {page}", f"p99 < {BYSTANDER_P99:.0f} s, no errors", got, ok)


# --- N1 -------------------------------------------------------------------------------------
def _timed(send) -> tuple[requests.Response, float]:
    began = time.monotonic()
    response = send()
    return response, time.monotonic() - began


def _decode_bombs(site: Site) -> None:
    """Both bombs at once (API and web form), while another user keeps two pages open: each
    is refused at once, and stores nothing."""
    from gallery.models import Photo

    attacker = site.user("bomber")
    api, web = site.api(attacker), site.web(attacker)
    loads = bystanders(site, seconds=8)
    before = (site.photo_ids(), site.orphans())
    time.sleep(1)  # the bystanders' first answers, before the attack
    sends = []
    for bomb in decode_bombs():
        sends.append((f"API: {bomb.name}", bomb, lambda bomb=bomb: site.upload(api, bomb.filename, bomb.data)))
        sends.append((f"web form: {bomb.name}", bomb, lambda bomb=bomb: site.form_upload(web, bomb.filename, bomb.data)))
    with ThreadPoolExecutor(len(sends)) as pool:
        answers = list(pool.map(lambda send: _timed(send[2]), sends))
    accepted = {response.json()["id"] for response, _ in answers if response.status_code == 201}
    stray, orphans = site.photo_ids() - before[0] - accepted, site.orphans() - before[1]
    for (case, bomb, _), (response, took) in zip(sends, answers):
        said = "; ".join(response.json().get("notes", [])) if response.status_code == 201 else message(response)
        got = f"{response.status_code} {said!r} in {took:.2f} s"
        if response.status_code == 201:
            kept = Photo.objects.get(pk=response.json()["id"])
            got += f"; stored {kept.width}x{kept.height}"
            ok = False
        else:
            got += f"; {len(stray)} rows, {len(orphans)} objects left"
            ok = 400 <= response.status_code < 500 and len(message(response)) > 10 and not stray and not orphans
        expected = f"in < {REFUSED_WITHIN:.0f} s: 4xx with a sentence, nothing stored"
        site.record(SECTION, f"N1 {case} (all {len(sends)} at once)", expected, got, ok and took < REFUSED_WITHIN)
    for photo_id in accepted:
        api.post(f"{site.base}/api/v1/photos/{photo_id}/cancel/", timeout=30)
    _bystanders_ok(site, "N1 during the bombs", loads())


def _camera_photos(site: Site) -> None:
    api = site.api(site.user("photographer"))
    for case in camera_files():
        response = site.upload(api, case.filename, case.data)
        body = response.json() if response.status_code == 201 else {}
        got = f"{response.status_code} " + (f"{body.get('width')}x{body.get('height')}" if body else repr(message(response)))
        site.record(SECTION, f"N1 still accepted: {case.name} ({len(case.data) / 1e6:.1f} MB)", "201", got, response.status_code == 201)
        if body:
            api.post(f"{site.base}/api/v1/photos/{body['id']}/cancel/", timeout=30)


# --- N2 -------------------------------------------------------------------------------------
def _zip_of_large_photos(site: Site) -> tuple[object, list[str]]:
    """The gallery's bulk download, as the browser sends it, then the ZIP's page until it
    links the file, then the file through its link: a whole ZIP with every photo."""
    owner = site.user("zipper")
    began = time.monotonic()
    ids = [str(photo.pk) for photo in finished_photos(owner, ZIP_PHOTOS, ZIP_SIZE, ZIP_STRENGTH)]
    made = time.monotonic() - began
    web = site.web(owner)
    web.get(f"{site.base}/photos/", timeout=60)
    asked = web.post(f"{site.base}/photos/download/", data={"ids": ids, "csrfmiddlewaretoken": csrf(web)}, allow_redirects=False, timeout=60)
    page_url = site.base + asked.headers.get("Location", "")
    began, page = time.monotonic(), None
    while time.monotonic() - began < 900:
        page = web.get(page_url, timeout=60)
        if 'id="archive-status"' not in page.text:  # neither queued nor building
            break
        time.sleep(3)
    built = time.monotonic() - began
    link = re.search(r'id="archive-download" href="([^"]+)"', page.text) if page is not None else None
    got = f"bulk download {asked.status_code} to {asked.headers.get('Location', '')!r}; "
    ok = False
    if link is None:
        got += f"no link after {built:.0f} s: {message(page) if page is not None else ''!r}"[-200:]
    else:
        got += f"ready after {built:.0f} s; " + _check_zip(web, site.base + link.group(1), 2 * ZIP_PHOTOS)
        ok = got.endswith("every CRC checked")
    site.figures["N2: 30 photos of 12 MP made in the probe"] = f"{made:.0f} s"
    site.record(SECTION, f"N2 ZIP of {ZIP_PHOTOS} photos of {ZIP_SIZE[0] * ZIP_SIZE[1] / 1e6:.0f} MP at strength {ZIP_STRENGTH}", "built, linked, complete: every photo's two files", got, ok)
    return owner, ids


def _check_zip(web: requests.Session, url: str, entries: int) -> str:
    """Fetch the ZIP as a browser follows the link, and read every entry back."""
    first = web.get(url, allow_redirects=False, timeout=60)
    fetch = requests.get(first.headers["Location"], stream=True, timeout=300) if first.status_code in (301, 302) else first
    with tempfile.TemporaryFile() as spooled:
        for chunk in fetch.iter_content(1 << 20):
            spooled.write(chunk)
        size = spooled.tell()
        spooled.seek(0)
        try:
            with zipfile.ZipFile(spooled) as zipped:
                names, broken = zipped.namelist(), zipped.testzip()
        except zipfile.BadZipFile as exc:
            return f"link {first.status_code}, {size / 1e9:.2f} GB: not a whole ZIP ({exc})"
    said = f"link {first.status_code}, {size / 1e9:.2f} GB, {len(names)} of {entries} entries"
    return said + (f", entry {broken} damaged" if broken else ", every CRC checked" if len(names) == entries else "")


# --- N3 -------------------------------------------------------------------------------------
def _fetch_until_file(client: requests.Session, url: str, deadline: float) -> str:
    """A download as a client makes it: asked again after Retry-After while it is prepared,
    then the file (a presigned link followed)."""
    while True:
        try:
            response = client.get(url, allow_redirects=False, timeout=60)
        except requests.ConnectionError:
            # As a browser does: a GET on a kept-alive connection that the server closed
            # meanwhile (gunicorn keeps one 2 s, as long as Retry-After) is sent again once.
            try:
                response = client.get(url, allow_redirects=False, timeout=60)
            except requests.ConnectionError as exc:
                return type(exc).__name__
        if response.status_code == 202 and time.monotonic() < deadline:
            time.sleep(float(response.headers.get("Retry-After", 2)))
            continue
        if response.status_code in (301, 302):
            fetched = requests.get(response.headers["Location"], timeout=60)
            return f"{response.status_code}>{fetched.status_code}" if fetched.content else f"{response.status_code}>empty"
        return str(response.status_code)


def _save_strength(site: Site, web: requests.Session, photo_id: str, strength: float) -> int:
    """As the photo page's slider saves it."""
    headers = {"Accept": "application/json", "X-CSRFToken": csrf(web)}
    return web.post(f"{site.base}/photos/{photo_id}/strength/", data={"strength": strength}, headers=headers, timeout=60).status_code


def _blended_downloads(site: Site, zipped: tuple[object, list[str]]) -> None:
    """Strength saved under 100 % on 10 photos of 12 MP (their blends rendered by the downloads
    worker), then 50 downloads of them at once, while another user's pages are measured."""
    owner, ids = zipped
    web, api = site.web(owner), site.api(owner)
    for client in (web, api):  # a connection for each download at once
        client.mount(site.base, requests.adapters.HTTPAdapter(pool_maxsize=BLENDED_DOWNLOADS))
    chosen = ids[:10]
    for photo_id in chosen:
        _save_strength(site, web, photo_id, BLEND_STRENGTH)
    routes = [
        lambda p: (web, f"{site.base}/photos/{p}/files/result-png?download=1"),
        lambda p: (web, f"{site.base}/photos/{p}/files/result-jpeg?download=1"),
        lambda p: (api, f"{site.base}/api/v1/photos/{p}/result/"),
        lambda p: (api, f"{site.base}/api/v1/photos/{p}/result/?format=webp"),
        lambda p: (requests.Session(), api.get(f"{site.base}/api/v1/photos/{p}/", timeout=60).json().get("result_url") or ""),
    ]
    downloads = [routes[n % len(routes)](chosen[n // len(routes) % len(chosen)]) for n in range(BLENDED_DOWNLOADS)]
    loads = bystanders(site, seconds=20)
    time.sleep(1)
    began = time.monotonic()
    with ThreadPoolExecutor(BLENDED_DOWNLOADS) as pool:
        answers = list(pool.map(lambda d: _fetch_until_file(d[0], d[1], began + 120), downloads))
    took = time.monotonic() - began
    counts = {answer: answers.count(answer) for answer in sorted(set(answers))}
    ok = all(answer.endswith(">200") or answer == "200" for answer in answers)
    got = ", ".join(f"{count} x {answer}" for answer, count in counts.items()) + f"; all done in {took:.0f} s"
    site.record(SECTION, f"N3 {BLENDED_DOWNLOADS} downloads at strength {BLEND_STRENGTH} of 10 photos of 12 MP at once", "each the file (202 while prepared, then 200/302)", got, ok)
    _bystanders_ok(site, "N3 during the downloads", loads())


# --- N4 -------------------------------------------------------------------------------------
def _address_caps(site: Site) -> None:
    """Accounts sharing one address fill the address's queue of work before any fills its
    own; another address still uploads. Black PNGs just under the pixel limit (~100 s of
    work each): a few fill the queues, and they are cancelled after."""
    side = int(settings.UPLOAD_MAX_PIXELS**0.5) - 25
    black, address = bilevel_png(side, side), site.address()
    per_user = int(settings.UPLOAD_QUEUE_MEGAPIXELS * 1e6 // (side * side))  # what a user's own cap lets in
    accounts = []
    for n in range(settings.UPLOAD_ADDRESS_QUEUE_MEGAPIXELS // settings.UPLOAD_QUEUE_MEGAPIXELS + 2):
        api = site.api(site.user(f"household{n}"))
        api.headers["X-Forwarded-For"] = address
        accounts.append(api)
    sent, refusal, queued = [], None, []
    try:
        for api in accounts:
            for n in range(per_user - 1):  # each account stays under its own cap
                response = site.upload(api, f"black-{n}.png", black)
                if response.status_code != 201:
                    refusal = response
                    break
                queued.append((api, response.json()["id"]))
                sent.append(api)
            if refusal is not None:
                break
        elsewhere = site.api(site.user("neighbour-elsewhere"))
        other = site.upload(elsewhere, "black-elsewhere.png", black)
        if other.status_code == 201:
            queued.append((elsewhere, other.json()["id"]))
    finally:
        for api, photo_id in queued:
            api.post(f"{site.base}/api/v1/photos/{photo_id}/cancel/", timeout=30)
    if refusal is None:
        site.record(SECTION, "N4 accounts at one address fill its queue", "429 with a sentence and Retry-After", f"{len(sent)} uploads, never refused", False)
    else:
        said, wait = message(refusal), refusal.headers.get("Retry-After")
        by_account = len({id(api) for api in sent})
        ok = refusal.status_code == 429 and "address" in said and wait is not None
        got = f"{len(sent)} queued by {by_account} accounts (each under its own {settings.UPLOAD_QUEUE_MEGAPIXELS} MP), then {refusal.status_code} {said!r}, Retry-After {wait}"
        site.record(SECTION, f"N4 accounts at one address, {side * side / 1e6:.1f} MP each", "the address's cap first: 429 with a sentence and Retry-After", got, ok)
    site.record(SECTION, "N4 then another address", "uploads (201)", f"{other.status_code} {message(other) if other.status_code != 201 else ''}", other.status_code == 201)


# --- N5, N6 ---------------------------------------------------------------------------------
ETC_NAMES = ("passwd", "hostname", "hosts", "group", "fstab")


def _shows_etc(text: str) -> bool:
    return any(re.search(rf"\b{name}\b", text) for name in ETC_NAMES)


def _ingestion(site: Site) -> None:
    """A staff member imports server folders through the ingestion page: folders outside the
    root, a path with .., a path through a link refused; in a root holding links to /etc
    and /etc/passwd, the links are skipped and only the real photo is imported."""
    from training.models import IngestJob

    root = site.stack.ingest_root
    linked = root / "with-links"
    linked.mkdir(parents=True, exist_ok=True)
    (linked / "real.png").write_bytes(encode(photo(384, 288, offset=9), "PNG"))  # over the datasets' 256 px minimum side
    for name, target in (("passwd.png", "/etc/passwd"), ("etc", "/etc")):
        if not (linked / name).is_symlink():
            (linked / name).symlink_to(target)
    web = site.web(site.user("curator", is_staff=True))
    page = f"{site.base}/manage/datasets/ingest/"
    web.get(page, timeout=30)

    def ingest(path: str) -> requests.Response:
        fields = {"source": "folder", "dataset": "probe-ingest", "path": path, "licence": "CC0", "csrfmiddlewaretoken": csrf(web)}
        return web.post(page, data=fields, allow_redirects=False, timeout=60)

    refused = {
        "/etc": "/etc",
        "the media folder": str(site.stack.var_dir / "media" / "originals"),
        "a path with ..": f"{root}/../../../../etc",
        "a path through a link to /etc": str(linked / "etc"),
    }
    for label, path in refused.items():
        jobs = IngestJob.objects.count()
        response = ingest(path)
        text = re.sub(r"<[^>]+>", " ", response.text)
        reason = re.search(r'class="errorlist[^"]*"[^>]*>\s*<li>([^<]+)', response.text)
        made = IngestJob.objects.count() - jobs
        ok = response.status_code == 400 and reason is not None and not made and not _shows_etc(text)
        got = f"{response.status_code} {reason.group(1) if reason else 'no reason shown'!r}; {made} jobs; /etc names shown: {_shows_etc(text)}"
        site.record(SECTION, f"N5 ingest {label} ({path})", "refused with the reason, nothing listed", got, ok)

    response = ingest(str(linked))
    found = re.search(r"/manage/jobs/(\d+)/", response.headers.get("Location", ""))
    if response.status_code != 302 or found is None:
        site.record(SECTION, "N6 ingest a root holding links to /etc/passwd and /etc", "links skipped", f"{response.status_code} {message(response)!r}", False)
        return
    site.stack.start_worker("etl")
    try:
        job = IngestJob.objects.get(pk=int(found.group(1)))
        deadline = time.monotonic() + 180
        while job.status not in ("succeeded", "failed", "stopped") and time.monotonic() < deadline:
            time.sleep(1)
            job.refresh_from_db()
    finally:
        site.stack.stop("etl")
    shown = web.get(f"{site.base}/manage/jobs/{job.pk}/", timeout=30).text
    copied = _datasets_hold(site, Path("/etc/passwd").read_bytes())
    ok = job.status == "succeeded" and job.total == 1 and job.kept == 1 and not _shows_etc(job.log + shown) and not copied
    got = f"job {job.status}: {job.total} file(s) seen, {job.kept} kept, {job.rejected} rejected; /etc names in its page: {_shows_etc(job.log + shown)}; /etc/passwd copied: {copied}"
    site.record(SECTION, "N6 ingest a root holding links to /etc/passwd and /etc", "the real photo only, links skipped", got, ok)


def _datasets_hold(site: Site, content: bytes) -> bool:
    from .stack import BUCKETS

    for page in site.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKETS["datasets"]):
        for item in page.get("Contents", []):
            if item["Size"] == len(content) and site.s3.get_object(Bucket=BUCKETS["datasets"], Key=item["Key"])["Body"].read() == content:
                return True
    return False


def make_recipe(target: str) -> list[str]:
    """The recipe lines of a Makefile target, read as procfile() reads the Procfile."""
    lines = (REPO / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def _make_run_roots(site: Site) -> None:
    recipe = make_recipe("run")
    roots = [value for line in recipe for value in re.findall(r"INGEST_FOLDER_ROOTS=(\S*)", line)]
    whole = [value for value in roots if value.strip("'\"").rstrip("/") == ""]
    got = f"INGEST_FOLDER_ROOTS in the recipe: {roots or 'unset (the settings default: var/incoming)'}"
    site.record(SECTION, "N5 `make run` ingests from var/incoming, never /", "no INGEST_FOLDER_ROOTS=/", got, bool(recipe) and not whole)


# --- N7 -------------------------------------------------------------------------------------
def _unusable_password(site: Site) -> None:
    target = site.user("shutout")
    api = site.api(target)
    before = api.get(f"{site.base}/api/v1/me/", timeout=30).status_code
    admin = site.web(site.user("superuser", is_staff=True, is_superuser=True))
    form = f"{site.base}/admin/auth/user/{target.pk}/password/"
    admin.get(form, timeout=30)
    fields = {"usable_password": "false", "password1": "", "password2": "", "unset-password": "1", "csrfmiddlewaretoken": csrf(admin)}
    response = admin.post(form, data=fields, allow_redirects=False, timeout=30)
    after = api.get(f"{site.base}/api/v1/me/", timeout=30).status_code
    target.refresh_from_db()
    got = f"token {before} before; admin form {response.status_code}, usable password: {target.has_usable_password()}; token then {after}"
    ok = before == 200 and response.status_code == 302 and not target.has_usable_password() and after == 401
    site.record(SECTION, 'N7 "Disable password-based authentication" in the admin', "the user's token then 401", got, ok)


# --- N8 -------------------------------------------------------------------------------------
RATE_PHOTOS = "4/minute"


def _sliding_window(site: Site) -> None:
    """A second gunicorn whose upload rate is 4 a minute: 4 uploads just before a clock
    minute's edge, one just after. A clock window would take it; a sliding one refuses it."""
    stack, port = site.stack, site.stack.ports.web_no_cache
    stack.start_web("web-rate", port, UPLOAD_RATE_PHOTOS=RATE_PHOTOS)
    base = f"http://127.0.0.1:{port}"
    try:
        api = site.api(site.user("edgy"), base=base)
        small = encode(photo(96, 64, offset=4), "JPEG")
        time.sleep((50 - time.time() % 60) % 60)  # to the next :50
        before = [site.upload(api, f"edge-{n}.jpg", small).status_code for n in range(int(RATE_PHOTOS.split("/")[0]))]
        time.sleep(61 - time.time() % 60)  # to :01 of the next minute
        past = time.time() % 60
        after = site.upload(api, "edge-after.jpg", small)
    finally:
        stack.stop("web-rate")
    wait = after.headers.get("Retry-After")
    ok = before == [201] * len(before) and past < 5 and after.status_code == 429 and wait is not None and int(wait) > 5
    got = f"before the edge {before}; {past:.1f} s past it {after.status_code} {message(after)!r}, Retry-After {wait}"
    site.record(SECTION, f"N8 upload rate {RATE_PHOTOS}: filled at :50, one more just past the minute", "429 with Retry-After (a clock window would take it)", got, ok)


# --- N9 -------------------------------------------------------------------------------------
def _store_down(site: Site, proxy: FaultProxy, zipped: tuple[object, list[str]]) -> None:
    """With S3 gone, every read answers 503 with a sentence, or what needs no S3 call: never 500."""
    owner, ids = zipped
    web, api = site.web(owner), site.api(owner)
    # A blend rendered by N3; a photo set to full strength; one whose strength is saved below.
    ready, full, pending = ids[0], ids[20], ids[11]
    _save_strength(site, web, full, 1.0)
    proxy.dead = True  # the store goes away: every request of any kind is dropped
    try:
        _save_strength(site, web, pending, 0.3)
        link = api.get(f"{site.base}/api/v1/photos/{pending}/", timeout=90).json().get("result_url") or ""
        reads = {
            "web download at full strength": (web, f"/photos/{full}/files/result-png?download=1"),
            "web original download": (web, f"/photos/{full}/files/original?download=1"),
            "web blended download (rendered)": (web, f"/photos/{ready}/files/result-png?download=1"),
            "web blended download (not rendered)": (web, f"/photos/{pending}/files/result-png?download=1"),
            "web full-strength output (the page's zoom)": (web, f"/photos/{ready}/files/output"),
            "photo page": (web, f"/photos/{ready}/"),
            "gallery": (web, "/photos/"),
            "API list": (api, "/api/v1/photos/"),
            "API photo": (api, f"/api/v1/photos/{ready}/"),
            "API result (rendered blend)": (api, f"/api/v1/photos/{ready}/result/"),
            "API result (not rendered)": (api, f"/api/v1/photos/{pending}/result/"),
            "signed blend link (not rendered)": (requests.Session(), link.removeprefix(site.base)),
        }
        for label, (client, path) in reads.items():
            try:
                response = client.get(site.base + path, allow_redirects=False, timeout=90)
                status, said = response.status_code, message(response)
            except requests.RequestException as exc:
                status, said = 0, type(exc).__name__
            ok = status in (200, 202, 302) or (status == 503 and len(said) > 10)
            site.record(SECTION, f"N9 S3 down: {label}", "503 with a sentence, or 200/202/302; never 500", f"{status} {said[:90]!r}", ok)
    finally:
        proxy.revive()


# --- N10 ------------------------------------------------------------------------------------
def _keras_of_unknown_architecture() -> bytes:
    # Keras only here: the probe's own process loads TensorFlow for this case alone.
    from inference.tests.model_files import save_conv_model

    with tempfile.TemporaryDirectory() as folder:
        return save_conv_model(Path(folder) / "unet.keras", name="unet").read_bytes()


def _model_upload(site: Site) -> None:
    from inference.models import ModelVersion

    admin = site.web(site.user("modeller", is_staff=True, is_superuser=True))
    page = f"{site.base}/admin/inference/modelversion/add/"
    admin.get(page, timeout=30)
    files = {
        "a text file named .keras": b"not a model at all\n" * 10,
        "a Keras file of an unknown architecture": _keras_of_unknown_architecture(),
    }
    for label, content in files.items():
        rows = ModelVersion.objects.count()
        fields = {"name": f"probe-{len(content)}", "notes": "", "metrics": "{}", "provenance": "{}", "csrfmiddlewaretoken": csrf(admin)}
        response = admin.post(page, data=fields, files={"file": ("generator.keras", content, "application/octet-stream")}, allow_redirects=False, timeout=180)
        error = re.search(r'class="errorlist[^"]*"[^>]*>\s*<li>([^<]+)', response.text)
        added = ModelVersion.objects.count() - rows
        ok = response.status_code == 200 and error is not None and not added
        site.record(SECTION, f"N10 admin adds a model: {label}", "form error, no new row", f"{response.status_code} {error.group(1)[:100] if error else 'no error shown'!r}; {added} rows added", ok)
    api = site.api(site.user("fastuser"))
    files = {"image": ("fast.jpg", encode(photo(128, 96, offset=2), "JPEG"), "image/jpeg")}
    response = api.post(f"{site.base}/api/v1/photos/", files=files, data={"model": "fast"}, timeout=120)
    job = site.wait_job(response.json().get("id", ""), timeout=300) if response.status_code == 201 else {}
    site.record(SECTION, "N10 then a Fast job", "succeeded", f"upload {response.status_code}, job {job.get('status')} {job.get('error') or ''}", job.get("status") == "succeeded")
