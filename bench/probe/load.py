"""Section 3: 100 uploads at once from several users, then every job done exactly once.
Section 5: read load, the pages people keep open (a job's status, the gallery, the API's
list) under 32 connections at once."""

import asyncio
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from deblursite.tests.faults import FaultProxy

from .corpus import camera_jpeg, encode, photo
from .site import DONE, Site, message
from .stack import procfile

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


REAL_SECTION = "real-size uploads"
# Camera photos at once from several users, each from an address of its own: 4 photos of
# 12 MP each stay well inside the per-user and per-address caps (UPLOAD_QUEUE_MEGAPIXELS,
# the hourly rates), so that every answer should be 201.
REAL_USERS, REAL_PER_USER, REAL_SIZE = 5, 4, (4000, 3000)


def real_size(site: Site) -> None:
    """20 camera JPEGs of 12 MP released together: every answer 201 (or a 429 with a
    sentence, which the spread over users and addresses should prevent), the latency and the
    time. Their jobs (minutes each on a CPU) are cancelled, to free the workers."""
    total = REAL_USERS * REAL_PER_USER
    made = time.monotonic()
    files = [camera_jpeg(*REAL_SIZE, offset=n) for n in range(total)]
    megabytes = sum(map(len, files)) / 1e6
    sessions = [site.api(site.user(f"camera{i}")) for i in range(REAL_USERS)]
    start = threading.Barrier(total)

    def one(n: int) -> tuple[int, float, str]:
        start.wait()
        began = time.monotonic()
        response = site.upload(sessions[n % REAL_USERS], f"IMG_{n:04d}.JPG", files[n])
        return response.status_code, time.monotonic() - began, response.json().get("id", "") if response.status_code == 201 else message(response)

    began = time.monotonic()
    try:
        with ThreadPoolExecutor(total) as pool:
            answers = list(pool.map(one, range(total)))
    finally:
        cancelled = _cancel_all(site, sessions)
    took = time.monotonic() - began
    counts = Counter(status for status, _, _ in answers)
    odd = [f"{status} {said!r}" for status, _, said in answers if status not in (201, 429) or (status == 429 and len(said) < 10)]
    latencies = sorted(seconds for _, seconds, _ in answers)
    size = f"{REAL_SIZE[0]}x{REAL_SIZE[1]} JPEGs ({megabytes / total:.1f} MB each)"
    answered = ", ".join(f"{count} x {status}" for status, count in sorted(counts.items()))
    site.record(REAL_SECTION, f"{total} concurrent uploads of {size} from {REAL_USERS} users", f"{total} x 201 (a 429 only with a sentence)", answered + (f"; {odd[0][:100]}" if odd else ""), counts[201] == total)
    site.figures[f"{total} uploads of {size}"] = (
        f"all answered in {took:.1f} s (latency median {statistics.median(latencies):.1f} s, max {latencies[-1]:.1f} s); "
        f"{total / took:.1f} photos/s, {megabytes / took:.1f} MB/s; made in {began - made:.0f} s; {cancelled} jobs cancelled"
    )


def _cancel_all(site: Site, sessions: list) -> int:
    cancelled = 0
    for api in sessions:
        for item in api.get(f"{site.base}/api/v1/photos/", timeout=60).json().get("results", []):
            cancelled += api.post(f"{site.base}/api/v1/photos/{item['id']}/cancel/", timeout=30).status_code < 300
    return cancelled


def _jobs(ids: list[str]) -> list[tuple[str, int]]:
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, attempts FROM gallery_restoration WHERE photo_id::text = ANY(%s)", [ids])
        return cursor.fetchall()


def _unfinished(ids: list[str]) -> bool:
    return any(status not in DONE for status, _ in _jobs(ids))


READ_SECTION = "read load"
CONNECTIONS = 32
# The reader's photos, done before the load: more than a page of the gallery (24) and of
# the API's list (20). Then, with the deblur worker stopped, WAITING users queue one photo
# each and the reader QUEUED more: the status polled is of a job with others ahead of it.
READER_PHOTOS, WAITING, QUEUED = 30, 10, 3
# The status again, while UPLOADERS users each upload a photo every UPLOAD_EVERY seconds to a
# store that holds each request back STORE_LATENCY seconds (S3 across a network, not moto on
# loopback): a sync worker waits out an upload's writes, a gthread worker serves other
# requests on its other threads meanwhile.
UPLOADERS, UPLOAD_EVERY, STORE_LATENCY = 2, 0.5, 0.05
# (figure, least req/s at CONNECTIONS connections on the Procfile's web line; issue 21)
TARGETS = {"status": 200, "gallery": 100, "API list": 100}


@dataclass(frozen=True)
class Load:
    answers: int
    errors: list[str]
    seconds: float
    latencies: list[float]  # sorted
    client_cpu: float  # CPU seconds the load generator itself spent
    server_cpu: float = 0.0  # and the web server's processes
    machine_cpu: float = 0.0  # and every process on the machine

    @property
    def rate(self) -> float:
        return self.answers / self.seconds

    def percentile(self, share: float) -> float:
        return self.latencies[min(len(self.latencies) - 1, int(share * len(self.latencies)))] if self.latencies else float("nan")

    def __str__(self) -> str:
        return (
            f"{self.rate:.0f} req/s, p50 {self.percentile(0.5) * 1000:.0f} ms, p99 {self.percentile(0.99) * 1000:.0f} ms"
            f" ({self.answers} answers in {self.seconds:.0f} s, {len(self.errors)} errors; CPU per request:"
            f" server {self._per_answer(self.server_cpu):.1f} ms, client {self._per_answer(self.client_cpu):.2f} ms,"
            f" the rest (PostgreSQL, moto, Celery, others) {self._per_answer(self.machine_cpu - self.server_cpu - self.client_cpu):.1f} ms;"
            f" the {os.cpu_count()} cores {self.machine_cpu / self.seconds / (os.cpu_count() or 1):.0%} busy)"
        )

    def _per_answer(self, cpu_seconds: float) -> float:
        return cpu_seconds / max(1, self.answers) * 1000


def machine_cpu_seconds() -> float:
    """CPU seconds that every process on the machine has spent (Linux's /proc/stat)."""
    user, nice, system, idle, iowait, *rest = map(int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:])
    return (user + nice + system + sum(rest[:3])) / os.sysconf("SC_CLK_TCK")  # with irq, softirq, steal


def cpu_seconds(chosen) -> float:
    """CPU seconds (user and system) spent so far by the live processes that `chosen` picks by
    process group and command line (Linux's /proc)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if chosen(int(fields[2]), command):  # the process group
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 answer; its status, and whether the server closes the connection."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in head[1:] if line)}
    if headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:
        await reader.read()
        return int(head[0].split()[1]), True
    return int(head[0].split()[1]), headers.get("connection", "").lower() == "close"


async def _connection(port: int, request: bytes, until: float, latencies: list[float], errors: list[str]) -> None:
    """One client connection, kept alive where the server allows (wrk's way): a request
    as soon as the last answer is in, until the time is up. A reconnect counts in the latency."""
    writer = None
    while time.monotonic() < until:
        began = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status, closing = await _answer(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            errors.append(type(exc).__name__)
            closing, status = True, 0
        else:
            latencies.append(time.perf_counter() - began)
            if status >= 400:
                errors.append(str(status))
        if closing and writer is not None:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def load(port: int, path: str, headers: dict[str, str], seconds: float, connections: int = CONNECTIONS, server=None) -> Load:
    """GET `path` over `connections` connections for `seconds`. A single-threaded asyncio client
    on raw sockets: on this 2-core machine it shares the CPUs with the server, so it must cost
    little per request (Load.client_cpu says how little). `server` picks the web server's
    processes, as cpu_seconds does, to count their CPU time."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{name}: {value}" for name, value in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    latencies: list[float] = []
    errors: list[str] = []

    async def all_connections() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(_connection(port, request, until, latencies, errors) for _ in range(connections)))

    server_cpu, machine_cpu = cpu_seconds(server) if server else 0.0, machine_cpu_seconds()
    cpu, began = time.process_time(), time.monotonic()
    asyncio.run(all_connections())
    spent = time.monotonic() - began, sorted(latencies), time.process_time() - cpu
    server_cpu = cpu_seconds(server) - server_cpu if server else 0.0
    return Load(len(latencies), errors, *spent, server_cpu, machine_cpu_seconds() - machine_cpu)


def bystanders(site: Site, seconds: float, connections: int = 2) -> Callable[[], dict[str, Load]]:
    """Another user keeps their job's status and their gallery open, `connections` each, for
    `seconds` from now, in threads; the call returned waits for them and gives each page's load."""
    user = site.user(f"bystander{site.address().replace('.', '-')}")
    api, web = site.api(user), site.web(user)
    photo_id = site.upload(api, "bystander.jpg", encode(photo(128, 96), "JPEG")).json()["id"]
    site.wait_job(photo_id)
    headers = {"X-Forwarded-For": site.address(), "Cookie": "; ".join(f"{k}={v}" for k, v in web.cookies.items())}
    pages = {"status": f"/photos/{photo_id}/status", "gallery": "/photos/"}
    loads: dict[str, Load] = {}

    def one(name: str) -> None:
        loads[name] = load(site.stack.ports.web, pages[name], headers, seconds, connections)

    threads = [threading.Thread(target=one, args=(name,)) for name in pages]
    for thread in threads:
        thread.start()

    def done() -> dict[str, Load]:
        for thread in threads:
            thread.join()
        return loads

    return done


def _upload_beside(site: Site, seconds: float, answers: list[tuple[int, float]]) -> list[threading.Thread]:
    """Start the UPLOADERS; each adds (status, seconds) of its uploads to `answers`."""
    files = [encode(photo(128, 96, offset=n), "JPEG") for n in range(8)]

    def uploader(n: int) -> None:
        api, until, sent = site.api(site.user(f"uploader{n}")), time.monotonic() + seconds, 0
        while time.monotonic() < until:
            began = time.monotonic()
            answer = site.upload(api, f"beside-{n}-{sent}.jpg", files[sent % len(files)])
            answers.append((answer.status_code, time.monotonic() - began))
            sent += 1
            time.sleep(max(0.0, UPLOAD_EVERY - (time.monotonic() - began)))

    threads = [threading.Thread(target=uploader, args=(n,)) for n in range(UPLOADERS)]
    for thread in threads:
        thread.start()
    return threads


def read_load(site: Site, proxy: FaultProxy, seconds: float) -> None:
    reader = site.user("reader")
    api, web = site.api(reader), site.web(reader)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda n: site.upload(api, f"read-{n}.jpg", encode(photo(128, 96, offset=n), "JPEG")), range(READER_PHOTOS)))
    done = [site.wait_job(answer.json()["id"]) for answer in answers if answer.status_code == 201]
    site.record(READ_SECTION, "the reader's photos deblurred", f"{READER_PHOTOS}", f"{sum(job.get('status') == 'succeeded' for job in done)}", len(done) == READER_PHOTOS)
    site.stack.stop("deblur")
    for n in range(WAITING):
        site.upload(site.api(site.user(f"waiting{n}")), f"wait-{n}.jpg", encode(photo(128, 96, offset=n), "JPEG"))
    queued = [site.upload(api, f"queued-{n}.jpg", encode(photo(128, 96, offset=n), "JPEG")).json()["id"] for n in range(QUEUED)]
    ahead = api.get(f"{site.base}/api/v1/photos/{queued[-1]}/", timeout=30).json().get("queue_position")

    port = site.stack.ports.web
    # Measured as production serves it, straight to PostgreSQL and Redis: the TCP proxies,
    # there for the outage cases, are a Python forwarder in the way of every query, and the
    # read load would measure them (status 223 req/s through them, 337 without).
    site.stack.stop("web")
    site.stack.start_web("web", port, direct=True)
    forwarded = {"X-Forwarded-For": site.address()}
    cookies = "; ".join(f"{name}={value}" for name, value in web.cookies.items())
    endpoints = {
        "trivial (/favicon.ico, a redirect)": ("/favicon.ico", forwarded),
        "status": (f"/photos/{queued[-1]}/status", forwarded | {"Cookie": cookies}),
        "gallery": ("/photos/", forwarded | {"Cookie": cookies}),
        "API list": ("/api/v1/photos/", forwarded | {"Authorization": f"Token {api.token}"}),
    }
    web_line = procfile()["web"]
    site.figures["read load: web server"] = (
        f"`{web_line}` with WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', 'unset')}, WEB_THREADS={os.environ.get('WEB_THREADS', 'unset')}"
    )
    site.figures["read load: data"] = f"{READER_PHOTOS + QUEUED} photos of the reader; the status polled has {ahead} jobs ahead"
    web_group = os.getpgid(site.stack.processes["web"].pid)

    def server(group: int, command: bytes) -> bool:
        return group == web_group
    for name, (path, headers) in endpoints.items():
        result = load(port, path, headers, seconds, server=server)
        site.figures[f"read load: {name}"] = str(result)
        print(f"  {name}: {result}", flush=True)
        if name in TARGETS:
            target = TARGETS[name]
            ok = result.rate >= target and not result.errors
            site.record(READ_SECTION, f"{name} at {CONNECTIONS} connections", f">= {target} req/s, no errors", f"{result}", ok)

    uploads: list[tuple[int, float]] = []
    proxy.latency = STORE_LATENCY
    try:
        uploaders = _upload_beside(site, seconds, uploads)
        path, headers = endpoints["status"]
        result = load(port, path, headers, seconds, server=server)
        for thread in uploaders:
            thread.join()
    finally:
        proxy.latency = 0.0
    stored = sorted(spent for status, spent in uploads if status == 201)
    beside = f"{len(stored)} of {len(uploads)} answered 201" + (f", median {statistics.median(stored):.2f} s" if stored else "")
    name = f"status while {UPLOADERS} users upload a photo every {UPLOAD_EVERY} s to a store {STORE_LATENCY * 1000:.0f} ms away"
    site.figures[f"read load: {name}"] = f"{result}; uploads: {beside}"
    print(f"  {name}: {result}; uploads: {beside}", flush=True)
