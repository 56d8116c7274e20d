"""Section 4: faults an operator meets (the store dying part-way, the worker losing the
database, the cache gone) and the abuse and client cases of issue 14. Every case reports
PASS or FAIL; none is skipped."""

import re
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from django.conf import settings
from django.db import connection
from django.db.models import F

from .corpus import bilevel_png, encode, photo
from .site import DONE, PASSWORD, Site, csrf, download_name, message
from deblursite.tests.faults import FaultProxy

from .stack import SWEEP_GRACE_SECONDS, procfile

SECTION = "faults"
# How long the broker's Redis, and PostgreSQL, stay cut off from the site's processes.
BROKER_CUT_SECONDS, DATABASE_CUT_SECONDS = 10, 8
# gunicorn's --timeout in the Procfile: an answer later than this is a hang.
REQUEST_TIMEOUT = 120
# An upload stores the file as given, its normalised copy, thumbnail and preview.
UPLOAD_WRITES = 4


def run(site: Site, proxy: FaultProxy, finished_ids: list[str]) -> None:
    user = site.user("operator")
    api = site.api(user)
    for allow in (1, 2):
        _upload_store_dies(site, proxy, api, allow)
    _job_store_dies_after_result(site, proxy, api)
    _delete_store_dies(site, proxy, finished_ids)
    _database_lost_mid_job(site, api)
    _worker_killed_mid_job(site, api)
    _broker_down(site)
    _database_outage(site)
    _cache_down(site)
    _web_form_limits(site)
    _idempotent_retry(site, api)
    _token_after_password_change(site)
    _token_after_password_reset(site)
    _hostile_download_names(site)
    _signup_burst(site)
    _password_reset_flood(site)
    _lockout_is_per_account_and_address(site)
    _operations_layout(site)
    _queued_work_cap(site)  # last: what it queues keeps the worker busy until cancelled


def _upload_store_dies(site: Site, proxy: FaultProxy, api, allow: int) -> None:
    before_orphans, before_rows, dropped = site.orphans(), len(site.photo_ids()), len(proxy.dropped)
    proxy.die_after("PUT", allow)
    try:
        response = site.upload(api, "store-dies.jpg", encode(photo(), "JPEG"))
    finally:
        proxy.revive()
    at_once, rows = site.orphans() - before_orphans, len(site.photo_ids()) - before_rows
    left = _after_sweep(lambda: site.orphans() - before_orphans, site)
    ok = response.status_code == 503 and not left and rows == 0
    got = (
        f"{response.status_code} {message(response)!r}; {len(at_once)} objects left at once, {len(left)} after the sweep, "
        f"{rows} rows ({len(proxy.dropped) - dropped} requests dropped)"
    )
    site.record(SECTION, f"S3 drops the upload after {allow} PUT(s)", "503 with a sentence, nothing left (after the sweep)", got, ok)


def _after_sweep(leftover, site: Site, wait: float = 30) -> set[str]:
    """What is still left once beat's periodic tasks (the storage sweep among them) ran, past
    the sweep's grace period."""
    left = leftover()
    if left:
        time.sleep(SWEEP_GRACE_SECONDS + 1)
        site.run_beat_tasks()
        deadline = time.monotonic() + wait
        while left and time.monotonic() < deadline:
            time.sleep(1)
            left = leftover()
    return left


def _job_store_dies_after_result(site: Site, proxy: FaultProxy, api) -> None:
    """The upload's writes go through, then the job's first (its result), then the store dies."""
    dropped = len(proxy.dropped)
    proxy.die_after("PUT", UPLOAD_WRITES + 1)
    try:
        response = site.upload(api, "job-store-dies.jpg", encode(photo(160, 120, offset=7), "JPEG"))
        photo_id = response.json().get("id", "")
        job = site.wait_job(photo_id, timeout=120) if photo_id else {}
        written = sorted(key for key in site.keys_of(photo_id) if key.startswith("results/")) if photo_id else []
    finally:
        proxy.revive()
    deleted = api.delete(f"{site.base}/api/v1/photos/{photo_id}/", timeout=60).status_code if photo_id else None
    left = _after_sweep(lambda: site.keys_of(photo_id), site) if photo_id else set()
    ok = bool(photo_id) and bool(written) and deleted in (202, 204) and not left
    got = (
        f"job {job.get('status')} after writing {written or 'no result'} ({len(proxy.dropped) - dropped} requests dropped), "
        f"delete {deleted}, {len(left)} objects left {sorted(left)[:2]}"
    )
    site.record(SECTION, "S3 dies after the job wrote results/<id>.png; then delete", "job ends, delete leaves nothing", got, ok)


def _delete_store_dies(site: Site, proxy: FaultProxy, finished_ids: list[str]) -> None:
    from gallery.models import Photo

    photo_id = next((pid for pid in finished_ids if site.job(pid).get("status") == "succeeded"), None)
    if photo_id is None:
        site.record(SECTION, "S3 dies after 2 deletes of a photo's objects", "consistent", "no finished photo to delete", False)
        return
    owner = Photo._base_manager.get(pk=photo_id).owner
    api = site.api(owner)
    before, dropped = site.keys_of(photo_id), len(proxy.dropped)
    proxy.die_after("DELETE", 2)
    try:
        response = api.delete(f"{site.base}/api/v1/photos/{photo_id}/", timeout=120)
    finally:
        proxy.revive()
    dropped = len(proxy.dropped) - dropped
    listed = api.get(f"{site.base}/api/v1/photos/{photo_id}/", timeout=30).status_code
    if response.status_code == 503:
        after = site.keys_of(photo_id)
        ok = after == before and listed == 200
        outcome = f"{len(before) - len(after)} of {len(before)} objects gone, photo still listed: {listed == 200}"
    else:
        after = _after_sweep(lambda: site.keys_of(photo_id), site)
        ok = response.status_code in (202, 204) and listed == 404 and not after
        outcome = f"photo {'hidden' if listed == 404 else 'still listed'}, {len(after)} objects left after the sweep"
    got = f"{response.status_code} {message(response) if response.content else ''!r}; {outcome} ({dropped} requests dropped)"
    expected = "503 with every object kept, or 202/204, hidden, and the sweep removes the rest"
    site.record(SECTION, f"S3 dies after 2 of {len(before)} object deletes", expected, got, ok and dropped > 0)


def _worker_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'probe-deblur'"
        )
        return [row[0] for row in cursor.fetchall()]


def _running_job(site: Site, api, name: str) -> tuple[str, dict]:
    """Upload a 1920x1080 photo (some seconds of work) and return its id and its job once it
    has run a moment."""
    big = photo(1280, 720).resize((1920, 1080))
    response = site.upload(api, name, encode(big, "PNG"))
    photo_id = response.json().get("id", "") if response.status_code == 201 else ""
    if not photo_id:
        return "", {"status": f"not uploaded ({response.status_code})"}
    site.wait_job(photo_id, until=("running", *DONE), timeout=180)
    time.sleep(1.5)
    return photo_id, site.job(photo_id)


def _database_lost_mid_job(site: Site, api) -> None:
    """The worker's connections are terminated while a job runs; the job must end (or be
    re-queued and end) soon, not stay `running` until the stale check."""
    photo_id, job = _running_job(site, api, "db-lost.png")
    if job.get("status") != "running":
        site.record(SECTION, "worker's PostgreSQL connection terminated mid-job", "job ends within 60 s", f"not exercised: job {job.get('status')} before the fault", False)
        return
    killed = 0
    with connection.cursor() as cursor:
        for pid in _worker_backends():
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            killed += cursor.fetchone()[0]
    began, at_fault = time.monotonic(), job
    job = site.wait_job(photo_id, timeout=60)
    took = time.monotonic() - began
    # Still running is fine while it visibly goes on (the worker reconnected); frozen is not.
    moving = job.get("status") == "running" and (job["heartbeat_at"], job["progress"]) != (at_fault["heartbeat_at"], at_fault["progress"])
    ok = killed > 0 and (job.get("status") in DONE or moving)
    state = job.get("status") + (" and moving on" if moving else " and frozen" if job.get("status") == "running" else "")
    got = f"{killed} connection(s) terminated; after {took:.0f} s the job is {state} (progress {job.get('progress', 0):.2f}, attempts {job.get('attempts')})"
    if job.get("status") == "failed":
        got += f": {job.get('error')!r}"
    site.record(SECTION, "worker's PostgreSQL connection terminated mid-job", "job ends, or goes on, within 60 s; not frozen", got, ok)
    if job.get("status") not in DONE:
        api.post(f"{site.base}/api/v1/photos/{photo_id}/cancel/", timeout=30)


def _worker_killed_mid_job(site: Site, api) -> None:
    """The worker running a job is SIGKILLed and started again from its Procfile line. Its
    message stays unacknowledged in Redis until the visibility timeout (6 h), so what brings
    the job back is beat's requeue_stale: once the job's heartbeat is JOB_STALE_SECONDS old
    (600 s), within the minute after. The probe does not wait 10 minutes: it moves the dead
    run's heartbeat back by JOB_STALE_SECONDS, as that wait would, and sends beat's tasks."""
    case = "deblur worker SIGKILLed mid-job, then started again"
    expected = "job not lost: succeeded, attempts 2, within 120 s of the stale check; or failed with a sentence"
    photo_id, job = _running_job(site, api, "killed.png")
    if job.get("status") != "running":
        site.record(SECTION, case, expected, f"not exercised: job {job.get('status')} before the kill", False)
        return
    entry, stack = job["queue"], site.stack  # each deblurring queue's Procfile entry is named after it
    stack.kill(entry)
    time.sleep(2)
    frozen = site.job(photo_id)
    stack.start_worker(entry)
    from gallery.models import Restoration

    past = timedelta(seconds=settings.JOB_STALE_SECONDS)
    Restoration.objects.filter(photo_id=photo_id, status="running").update(heartbeat_at=F("heartbeat_at") - past, started_at=F("started_at") - past)
    began = time.monotonic()
    site.run_beat_tasks()
    job = site.wait_job(photo_id, timeout=120)
    took = time.monotonic() - began
    ok = frozen.get("status") == "running" and (
        (job.get("status") == "succeeded" and job.get("attempts") == 2) or (job.get("status") == "failed" and len(job.get("error") or "") > 10)
    )
    got = (
        f"{entry} worker killed at progress {frozen.get('progress', 0):.2f} (then {frozen.get('status')}); "
        f"{took:.0f} s after the stale check the job is {job.get('status')}, attempts {job.get('attempts')}"
        + (f": {job.get('error')!r}" if job.get("status") == "failed" else "")
        + f"; production bound: JOB_STALE_SECONDS ({settings.JOB_STALE_SECONDS} s) + beat's 60 s + the run"
    )
    site.record(SECTION, case, expected, got, ok)
    if job.get("status") not in DONE:
        api.post(f"{site.base}/api/v1/photos/{photo_id}/cancel/", timeout=30)


def _timed(send) -> tuple[requests.Response | None, float, str]:
    """An answer, the seconds it took, and what went wrong in words when there was none."""
    began = time.monotonic()
    try:
        return send(), time.monotonic() - began, ""
    except requests.RequestException as exc:
        return None, time.monotonic() - began, f"{type(exc).__name__}: {exc}"[:100]


def _broker_down(site: Site) -> None:
    """The broker's Redis cut off from every process of the site (the cache stays): an upload
    is queued for later (201) or refused with a sentence (503, nothing left), quickly; once the
    broker is back, the workers reconnect and the queued job runs."""
    user = site.user("nobroker")
    api, web = site.api(user), site.web(user)
    proxy, rows, orphans = site.stack.broker_proxy, len(site.photo_ids()), site.orphans()
    proxy.cut()
    cut_at = time.monotonic()
    try:
        answers = {
            "API upload": _timed(lambda: api.post(f"{site.base}/api/v1/photos/", files={"image": ("nobroker.png", encode(photo(96, 64, offset=13), "PNG"), "image/png")}, timeout=REQUEST_TIMEOUT + 10)),
            "web form upload": _timed(lambda: site.form_upload(web, "nobroker-web.png", encode(photo(96, 64, offset=14), "PNG"), timeout=REQUEST_TIMEOUT + 10)),
        }
        time.sleep(max(0.0, BROKER_CUT_SECONDS - (time.monotonic() - cut_at)))
    finally:
        proxy.restore()
    site.run_beat_tasks()  # as beat does every minute: requeue_stale releases what is held
    expected = f"201 (runs once the broker is back) or 503 with a sentence and nothing left; under {REQUEST_TIMEOUT} s"
    for name, (response, took, failure) in answers.items():
        if response is None:
            site.record(SECTION, f"broker down: {name}", expected, f"{failure} after {took:.0f} s", False)
            continue
        status, said = response.status_code, message(response)
        if status == 201:
            photo_id = response.json().get("id", "")
            job = site.wait_job(photo_id, timeout=120)
            ok = job.get("status") == "succeeded"
            got = f"201 in {took:.1f} s; the job {job.get('status')} {time.monotonic() - cut_at - BROKER_CUT_SECONDS:.0f} s after the broker came back"
        else:
            left = _after_sweep(lambda: site.orphans() - orphans, site)
            ok = status == 503 and len(said) > 10 and not left and len(site.photo_ids()) == rows
            got = f"{status} {said!r} in {took:.1f} s; {len(left)} objects left"
        site.record(SECTION, f"broker down: {name}", expected, got, ok and took < REQUEST_TIMEOUT)


def _database_outage(site: Site) -> None:
    """PostgreSQL cut off from every process of the site for DATABASE_CUT_SECONDS while a job
    runs: pages, API reads and uploads answer 503 with a sentence, at once; afterwards the same
    processes serve again, and the job ends."""
    user = site.user("outage")
    api, web = site.api(user), site.web(user)
    photo_id, job = _running_job(site, api, "db-outage.png")
    web_pid = site.stack.processes["web"].pid
    png = encode(photo(96, 64, offset=17), "PNG")
    attempts = {
        "gallery page": lambda: web.get(f"{site.base}/photos/", timeout=REQUEST_TIMEOUT + 10),
        "photo page": lambda: web.get(f"{site.base}/photos/{photo_id}/", timeout=REQUEST_TIMEOUT + 10),
        "job status": lambda: web.get(f"{site.base}/photos/{photo_id}/status", timeout=REQUEST_TIMEOUT + 10),
        "API list": lambda: api.get(f"{site.base}/api/v1/photos/", timeout=REQUEST_TIMEOUT + 10),
        "API photo": lambda: api.get(f"{site.base}/api/v1/photos/{photo_id}/", timeout=REQUEST_TIMEOUT + 10),
        "API upload": lambda: site.upload(api, "outage.png", png),
        "web form upload": lambda: site.form_upload(web, "outage-web.png", png, timeout=REQUEST_TIMEOUT + 10),
    }
    proxy = site.stack.database_proxy
    proxy.cut()
    cut_at = time.monotonic()
    try:
        during = {name: _timed(attempt) for name, attempt in attempts.items()}
        time.sleep(max(0.0, DATABASE_CUT_SECONDS - (time.monotonic() - cut_at)))
    finally:
        proxy.restore()
    for name, (response, took, failure) in during.items():
        said = message(response) if response is not None else failure
        ok = response is not None and response.status_code == 503 and len(said) > 10 and took < 30
        got = f"{response.status_code if response is not None else 'no answer'} {said[:100]!r} in {took:.1f} s"
        site.record(SECTION, f"database down: {name}", "503 with a sentence within 30 s", got, ok)
    after = {name: _timed(attempt) for name, attempt in attempts.items()}
    bad = [f"{name}: {response.status_code if response is not None else failure}" for name, (response, _, failure) in after.items() if response is None or response.status_code not in (200, 201)]
    same = site.stack.processes["web"].pid == web_pid and site.stack.processes["web"].poll() is None
    site.record(SECTION, "database back: the same pages and uploads", "200/201, the same gunicorn", f"{len(after) - len(bad)} of {len(after)} served; same gunicorn: {same}" + (f"; {', '.join(bad)[:120]}" if bad else ""), not bad and same)
    if job.get("status") != "running":
        site.record(SECTION, "database down: the running job", "ends succeeded", f"not exercised: job {job.get('status')} before the cut", False)
        return
    job = site.wait_job(photo_id, timeout=180)
    took = time.monotonic() - cut_at - DATABASE_CUT_SECONDS
    got = f"{job.get('status')} {took:.0f} s after the database came back, attempts {job.get('attempts')}" + (f": {job.get('error')!r}" if job.get("error") else "")
    site.record(SECTION, "database down: the running job", "ends succeeded (retried by the worker)", got, job.get("status") == "succeeded")


def _cache_down(site: Site) -> None:
    """A second gunicorn (also testing that two run on one host) whose cache is a closed port."""
    stack, port = site.stack, site.stack.ports.web_no_cache
    try:
        stack.start_web("web-no-cache", port, CACHE_URL=f"rediscache://127.0.0.1:{stack.ports.closed}/{stack.cache_db}")
    except RuntimeError as exc:
        site.record(SECTION, "a second gunicorn on the same host", "starts and answers", str(exc).splitlines()[0][:120], False)
        return
    site.record(SECTION, "a second gunicorn on the same host", "starts and answers", "answers", True)
    base = f"http://127.0.0.1:{port}"
    try:
        user = site.user("nocache")
        api = site.api(user, base=base)
        anonymous = site.anonymous(base)
        attempts = {
            "upload": lambda: site.upload(api, "nocache.jpg", encode(photo(), "JPEG")),
            "token": lambda: anonymous.post(f"{base}/api/v1/auth/token/", data={"username": "nocache", "password": PASSWORD, "device_name": "x"}, timeout=30),
            "register": lambda: anonymous.post(f"{base}/api/v1/auth/register/", data={"username": "nocache2", "email": "n2@example.com", "password": PASSWORD}, timeout=30),
        }
        log = stack.log("web-no-cache")
        for name, attempt in attempts.items():
            offset = log.stat().st_size
            response = attempt()
            logged = "redis" in log.read_text(errors="replace")[offset:].lower()
            said = "served" if response.status_code == 201 else repr(message(response))
            ok = logged and response.status_code in (201, 503) and (response.status_code != 503 or len(message(response)) > 10)
            expected = "503 with a sentence (or served), never 500; logged"
            site.record(SECTION, f"Redis cache down: API {name}", expected, f"{response.status_code} {said}; logged: {logged}", ok)
    finally:
        stack.stop("web-no-cache")


def _site_page(response) -> str:
    bare = "<h1>Bad Request (400)</h1>" in response.text
    own = "error-page" in response.text or "<nav" in response.text
    return "Django's bare page" if bare else "the site's page" if own else "another page"


def _main_text(response) -> str:
    found = re.search(r"<main[^>]*>(.*?)</main>", response.text, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1) if found else response.text)).strip()


def _web_form_limits(site: Site) -> None:
    """Refusals Django makes before the view (the multipart parser's limits): the site's own
    page, saying which limit. Each case: the files and a word the reason must contain."""
    web = site.web(site.user("formuser"))
    small = encode(photo(), "PNG")
    posts = {
        "a 1000-character file name in the web form": ([("images", ("n" * 996 + ".png", small, "image/png"))], "name"),
        "41 files in one web form post": ([("images", (f"p{i}.png", small, "image/png")) for i in range(41)], "files"),
    }
    for case, (files, word) in posts.items():
        response = web.post(
            f"{site.base}/photos/upload/", files=files, data={"model": "best", "csrfmiddlewaretoken": csrf(web)}, allow_redirects=False, timeout=120
        )
        page, text = _site_page(response), _main_text(response)
        ok = response.status_code == 302 or (response.status_code == 400 and page == "the site's page" and word in text.lower())
        site.record(SECTION, case, f"400 on the site's page naming the limit ({word!r}), or accepted", f"{response.status_code} {page}: {text[:110]!r}", ok)


def _idempotent_retry(site: Site, api) -> None:
    key, data = str(uuid.uuid4()), encode(photo(96, 64, offset=11), "JPEG")
    before = len(site.photo_ids())
    first = site.upload(api, "retry.jpg", data, headers={"Idempotency-Key": key})
    second = site.upload(api, "retry.jpg", data, headers={"Idempotency-Key": key})
    made = len(site.photo_ids()) - before
    same = first.ok and second.ok and first.json().get("id") == second.json().get("id")
    site.record(SECTION, "Idempotency-Key: the same upload twice", "one photo, the same answer", f"{first.status_code}/{second.status_code}, {made} photo(s), same id: {same}", same and made == 1)


def _change_password_on_the_web(site: Site, web, new: str) -> int:
    web.get(f"{site.base}/accounts/password_change/", timeout=30)
    return web.post(
        f"{site.base}/accounts/password_change/",
        data={"old_password": PASSWORD, "new_password1": new, "new_password2": new, "csrfmiddlewaretoken": csrf(web)},
        allow_redirects=False,
        timeout=30,
    ).status_code


def _token_after_password_change(site: Site) -> None:
    user = site.user("changer")
    api, web = site.api(user), site.web(user)
    changed = _change_password_on_the_web(site, web, "a brand new passphrase 1")
    me = api.get(f"{site.base}/api/v1/me/", timeout=30).status_code
    site.record(SECTION, "token issued before a password change", "401", f"change {changed}, then /me/ {me}", changed == 302 and me == 401)


def _token_after_password_reset(site: Site) -> None:
    user = site.user("resetter")
    api, web = site.api(user), site.anonymous()
    log = site.stack.log("web")
    offset = log.stat().st_size
    web.get(f"{site.base}/accounts/password_reset/", timeout=30)
    web.post(f"{site.base}/accounts/password_reset/", data={"email": user.email, "csrfmiddlewaretoken": csrf(web)}, timeout=30)
    time.sleep(0.5)
    links = re.findall(r"https?://[^/\s]+(/accounts/reset/[^/\s]+/[^/\s]+/)", log.read_text(errors="replace")[offset:])
    if not links:
        site.record(SECTION, "token issued before a password reset", "401", "no reset mail found in the web log", False)
        return
    form = web.get(site.base + links[-1], timeout=30)
    new = "another brand new passphrase 2"
    done = web.post(form.url, data={"new_password1": new, "new_password2": new, "csrfmiddlewaretoken": csrf(web)}, allow_redirects=False, timeout=30)
    me = api.get(f"{site.base}/api/v1/me/", timeout=30).status_code
    site.record(SECTION, "token issued before a password reset", "401", f"reset {done.status_code}, then /me/ {me}", done.status_code == 302 and me == 401)


def _hostile_download_names(site: Site) -> None:
    user = site.user("namer")
    web, api = site.web(user), site.api(user)
    names = {"quote and semicolon": "a\"; filename*=UTF-8''evil.html; b=\".png", "non-ASCII": "фото 照片.png"}
    for label, name in names.items():
        response = site.upload(api, name, encode(photo(96, 64, offset=5), "PNG"))
        photo_id = response.json().get("id", "")
        job = site.wait_job(photo_id, timeout=120) if photo_id else {}
        for where, url, client in (
            ("API", f"{site.base}/api/v1/photos/{photo_id}/result/", api),
            ("web", f"{site.base}/photos/{photo_id}/files/result-png?download=1", web),
        ):
            try:
                saved, fetched = download_name(client.get(url, allow_redirects=False, timeout=20))
                got = f"saved as {saved!r}, fetch {fetched}"
                ok = saved.endswith("-deblurred.png") and fetched == 200
            except Exception as exc:  # a hanging or failing signature is the finding
                got, ok = f"{type(exc).__name__}: {exc}"[:120], False
            site.record(SECTION, f"{where} download of a photo named with {label}", "saved as <stem>-deblurred.png", f"job {job.get('status')}; {got}", ok)


def _signup_burst(site: Site) -> None:
    address = site.address()

    def one(n: int) -> int:
        session = site.anonymous()
        session.headers["X-Forwarded-For"] = address
        session.get(f"{site.base}/accounts/signup/", timeout=30)
        name = f"burst{n}-{uuid.uuid4().hex[:6]}"
        return session.post(
            f"{site.base}/accounts/signup/",
            data={"username": name, "email": f"{name}@example.com", "password1": PASSWORD, "password2": PASSWORD, "csrfmiddlewaretoken": csrf(session)},
            allow_redirects=False,
            timeout=30,
        ).status_code

    began = time.monotonic()
    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(one, range(30)))
    created, counts = statuses.count(302), Counter(statuses)
    answers = ", ".join(f"{count} x {status}" for status, count in sorted(counts.items()))
    # Created or refused with 429; anything else (a 403, a 500) is a finding of its own.
    ok = created < 30 and set(counts) <= {302, 429}
    site.record(SECTION, f"30 web sign-ups from one address in {time.monotonic() - began:.1f} s", "limited: the rest 429", answers, ok)


def _password_reset_flood(site: Site) -> None:
    user = site.user("flooded")
    session, log = site.anonymous(), site.stack.log("web")
    offset = log.stat().st_size
    session.get(f"{site.base}/accounts/password_reset/", timeout=30)
    for _ in range(25):
        session.post(f"{site.base}/accounts/password_reset/", data={"email": user.email, "csrfmiddlewaretoken": csrf(session)}, allow_redirects=False, timeout=30)
    time.sleep(0.5)
    mails = log.read_text(errors="replace")[offset:].count("/accounts/reset/")
    site.record(SECTION, "25 password resets for one address", "a few mails, not 25", f"{mails} mails", mails <= 5)


def _lockout_is_per_account_and_address(site: Site) -> None:
    victim, neighbour = site.user("victim"), site.user("neighbour")
    attacker = site.anonymous()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        site.login(attacker, victim.username, "wrong password")
    victim_elsewhere = site.anonymous()
    own = site.login(victim_elsewhere, victim.username, PASSWORD).status_code
    same_address = site.anonymous()
    same_address.headers["X-Forwarded-For"] = attacker.headers["X-Forwarded-For"]
    other = site.login(same_address, neighbour.username, PASSWORD).status_code
    site.record(SECTION, "someone else's failures do not lock an account out", "victim from elsewhere signs in (302)", str(own), own == 302)
    site.record(SECTION, "one account's failures do not lock the address out", "another user there signs in (302)", str(other), other == 302)


def _operations_layout(site: Site) -> None:
    from deblursite.celery import app

    queue = app.amqp.router.route({}, "gallery.requeue_stale")["queue"].name
    site.record(SECTION, "requeue_stale's queue", "not the deblur queue", queue, queue != "deblur")
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    served = {
        queue
        for command in procfile().values()
        for queues in re.findall(r"--queues[ =]([\w,]+)", command)
        for queue in queues.split(",")
    }
    missing = sorted(routed - served)
    site.record(SECTION, "every routed queue has a Procfile worker", "none missing", ", ".join(missing) or "none missing", not missing)


def _queued_work_cap(site: Site) -> None:
    """Tiny all-black PNGs just under the pixel limit (~100 s of work each): a user's queued
    work is capped, with a sentence, and the web form shares the API's limit."""
    user = site.user("hoarder")
    api, web = site.api(user), site.web(user)
    side = int(settings.UPLOAD_MAX_PIXELS**0.5) - 25
    bomb = bilevel_png(side, side)
    accepted, refusal = [], None
    try:
        for n in range(20):
            response = site.upload(api, f"black-{n}.png", bomb)
            if response.status_code != 201:
                refusal = response
                break
            accepted.append(response.json()["id"])
        form = site.form_upload(web, "black-web.png", bomb)
        if form.status_code == 201:
            accepted.append(form.json()["id"])
    finally:
        for photo_id in accepted:
            api.post(f"{site.base}/api/v1/photos/{photo_id}/cancel/", timeout=30)
    megapixels = side * side / 1e6
    said = f"{refusal.status_code} {message(refusal)!r}" if refusal is not None else "never refused"
    site.record(SECTION, f"20 uploads of {megapixels:.1f}-megapixel black PNGs ({len(bomb) // 1024} KB)", "refused before the 20th, with a sentence", f"{len(accepted) - (form.status_code == 201)} queued, then {said}", refusal is not None and refusal.status_code < 500 and len(message(refusal)) > 10)
    site.record(SECTION, "then the web form, same user", "refused as well (one limit for both)", f"{form.status_code} {message(form)!r}", 400 <= form.status_code < 500)
