"""Section 3: 100 uploads at once from several users, then every job done exactly once."""

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from .corpus import encode, photo
from .site import DONE, Site

SECTION = "100 concurrent uploads"
USERS, PER_USER = 10, 10


def run(site: Site) -> list[str]:
    """Returns the ids of the photos it made (the fault cases reuse finished ones)."""
    sessions = [site.api(site.user(f"crowd{i}")) for i in range(USERS)]
    total = USERS * PER_USER
    files = [encode(photo(128, 96, offset=n), "JPEG", quality=92) for n in range(total)]
    start = threading.Barrier(total)

    def one(n: int) -> tuple[int, float, str]:
        start.wait()
        began = time.monotonic()
        response = site.upload(sessions[n % USERS], f"crowd-{n}.jpg", files[n])
        return response.status_code, time.monotonic() - began, response.json().get("id", "") if response.ok else response.text[:100]

    began = time.monotonic()
    with ThreadPoolExecutor(total) as pool:
        answers = list(pool.map(one, range(total)))
    uploaded = time.monotonic() - began
    errors = [f"{status} {body}" for status, _, body in answers if status != 201]
    ids = [body for status, _, body in answers if status == 201]
    latencies = sorted(seconds for _, seconds, _ in answers)
    site.record(SECTION, "uploads answered 201", f"{total} of {total}", f"{len(ids)} of {total}" + (f"; first error {errors[0]}" if errors else ""), not errors)

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and _unfinished(ids):
        time.sleep(1)
    finished = time.monotonic() - began
    jobs = _jobs(ids)
    succeeded_once = [j for j in jobs if j == ("succeeded", 1)]
    odd = sorted({f"{status} x{attempts}" for status, attempts in jobs if (status, attempts) != ("succeeded", 1)})
    site.record(SECTION, "every job succeeded, attempts == 1", f"{len(ids)}", f"{len(succeeded_once)}" + (f"; others: {', '.join(odd)}" if odd else ""), len(succeeded_once) == len(ids) == total)
    site.figures["100 uploads: all answered"] = f"{uploaded:.1f} s (latency median {statistics.median(latencies):.2f} s, max {latencies[-1]:.2f} s)"
    site.figures["100 uploads: all jobs done"] = f"{finished:.1f} s after the first upload ({len(ids) / finished:.2f} jobs/s on one worker)"
    return ids


def _jobs(ids: list[str]) -> list[tuple[str, int]]:
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, attempts FROM gallery_restoration WHERE photo_id::text = ANY(%s)", [ids])
        return cursor.fetchall()


def _unfinished(ids: list[str]) -> bool:
    return any(status not in DONE for status, _ in _jobs(ids))
