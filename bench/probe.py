"""Probe a production-like stack as an attacker and an operator would (docs/reliability.md).

Starts on loopback: the moto S3 server behind a fault proxy, a PostgreSQL database and Redis
databases of this run's own (removed at the end) behind TCP proxies a case can cut, gunicorn,
the Celery workers of every deblurring and download queue and the maintenance worker with
beat, all from the Procfile's lines and the site's production settings. Then: hostile
uploads, an ownership sweep over every route, 100 concurrent uploads and 20 of 12 MP, fault
cases (a worker killed, the broker and the database cut off among them), the cases of
issue 21, and read load on the pages people keep open. Prints a PASS/FAIL table and
figures, stops everything, and exits 0 either way: it is a probe, not a test.

    .venv/bin/python bench/probe.py [--base-port 8104] [--broker-db N] [--cache-db N]
        [--database NAME] [--sections 1,2,3,4,5,6] [--read-seconds 30]
"""

import argparse
import os
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from deblursite.tests.faults import FaultProxy  # noqa: E402
from probe import stack as stacks  # noqa: E402  (bench/probe/, next to this script)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-port", type=int, default=8104, help="first of the four loopback ports it uses")
    parser.add_argument("--broker-db", type=int, help="Redis database of the Celery broker, flushed (default: an empty one it claims)")
    parser.add_argument("--cache-db", type=int, help="Redis database of the cache, flushed (default: an empty one it claims)")
    parser.add_argument("--database", help="PostgreSQL database it drops and creates, and keeps (default: deblur_probe_<run>, dropped at the end)")
    parser.add_argument("--var-dir", default=str(REPO / "test-artifacts" / "var-probe"))
    parser.add_argument("--sections", default="1,2,3,4,5,6", help="the numbers of the sections to run")
    parser.add_argument("--read-seconds", type=float, default=30, help="seconds of read load per endpoint")
    args = parser.parse_args()

    began = time.monotonic()
    ports = stacks.Ports.from_base(args.base_port)
    stack = stacks.Stack(ports, Path(args.var_dir).resolve(), args.broker_db, args.cache_db, args.database)
    stacks.install_teardown(stack)
    proxy = None
    try:
        proxy, site = start(stack)
        print(f"Stack up in {time.monotonic() - began:.0f} s; logs in {stack.log_dir}", flush=True)
        probe(site, proxy, {int(number) for number in args.sections.split(",")}, args.read_seconds)
        site.figures["total run time"] = f"{time.monotonic() - began:.0f} s"
        report(site)
    finally:
        stack.teardown()
        if proxy is not None:
            proxy.__exit__(None, None, None)


def start(stack: stacks.Stack):
    stack.make_storage()
    print(
        f"Starting the stack (ports {vars(stack.ports)}; database {stack.database}, Redis broker {stack.broker_db}, "
        f"cache {stack.cache_db}; PostgreSQL through :{stack.database_proxy.port}, the broker through :{stack.broker_proxy.port})",
        flush=True,
    )
    # The probe's own Django: the same settings, but straight to the S3 server, PostgreSQL and
    # the broker, not through the proxies.
    os.environ.update(stack.env("probe", direct=True, AWS_S3_ENDPOINT_URL=f"http://127.0.0.1:{stack.ports.moto}"))
    import django

    django.setup()
    from probe.site import Site

    stack.start_moto()
    proxy = FaultProxy(f"http://127.0.0.1:{stack.ports.moto}").__enter__()
    stack.s3_url = proxy.url
    site = Site(stack, f"http://127.0.0.1:{stack.ports.web}")
    for bucket in stacks.BUCKETS.values():
        site.s3.create_bucket(Bucket=bucket)
    stack.manage("migrate", "--noinput")
    stack.manage("collectstatic", "--noinput")
    print(" ", stack.manage("ensure_default_model"), flush=True)
    stack.start_web("web", stack.ports.web)
    # Every worker the site routes work to: a photo expected to take long goes to deblur-long,
    # blends and ZIPs to downloads.
    for entry in stacks.WORKERS:
        stack.start_worker(entry)
    return proxy, site


def probe(site, proxy: FaultProxy, chosen: set[int], read_seconds: float) -> None:
    from probe import faults, hardening, hostile, load, ownership
    from probe.corpus import encode, photo

    alice = site.user("alice")
    alice_api = site.api(alice)
    answer = alice_api.post(
        f"{site.base}/api/v1/photos/",
        files={"image": (ownership.secret_name(), encode(photo(96, 64, offset=3), "PNG"), "image/png")},
        timeout=60,
    )
    alice_photo = answer.json()
    warm = time.monotonic()
    job = site.wait_job(alice_photo["id"], timeout=300)
    site.figures["first job (loads the model)"] = f"{job.get('status')} in {time.monotonic() - warm:.1f} s"

    finished: list[str] = []
    sections = (
        ("1. hostile uploads", lambda: hostile.run(site)),
        ("2. ownership sweep", lambda: ownership.run(site, alice, alice_photo, alice_api)),
        ("3. 100 concurrent uploads", lambda: (finished.extend(load.run(site)), load.real_size(site))),
        ("4. faults", lambda: faults.run(site, proxy, finished)),
        ("6. issue 21", lambda: hardening.run(site, proxy)),
        # Last: it stops the deblur worker, to keep the job whose status it polls queued.
        ("5. read load", lambda: load.read_load(site, proxy, read_seconds)),
    )
    for title, run in sections:
        if int(title.split(".")[0]) not in chosen:
            continue
        print(f"\n{title}", flush=True)
        started = time.monotonic()
        try:
            run()
        except Exception as exc:
            traceback.print_exc()
            site.record(title, "the section ran to its end", "no exception", f"{type(exc).__name__}: {exc}"[:160], False)
        finally:
            proxy.revive()
        site.figures[f"section {title}"] = f"{time.monotonic() - started:.0f} s"


def report(site) -> None:
    rows = site.results
    failed = [row for row in rows if not row.ok]
    lines = [
        f"Probe of {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        "| section | case | expected | got | |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {r.section} | {_cell(r.case)} | {_cell(r.expected)} | {_cell(r.got)} | {'PASS' if r.ok else '**FAIL**'} |" for r in rows),
        "",
        "| figure | value |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in site.figures.items()),
        "",
        f"SUMMARY: {len(rows) - len(failed)} of {len(rows)} cases PASS, {len(failed)} FAIL"
        + (f" ({'; '.join(r.case for r in failed)})" if failed else ""),
    ]
    text = "\n".join(lines)
    print("\n" + text)
    (site.stack.log_dir / "summary.md").write_text(text + "\n")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


if __name__ == "__main__":
    main()
