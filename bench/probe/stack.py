"""The production-like stack the probe runs against, on loopback: the moto S3 server (that
the site reaches through the fault proxy of deblursite/tests/faults.py), a fresh PostgreSQL
database, Redis databases of its own, gunicorn and the Celery workers started from the
Procfile's own lines. Everything it starts is in a process
group of its own and is ended on exit, however the probe ends."""

import atexit
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
DATABASE = "deblur_probe"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BUCKETS = {"media": "probe-media", "datasets": "probe-datasets", "models": "probe-models"}
# Behind one TLS proxy, as in production: the probe plays its clients through X-Forwarded-For.
PROXY_COUNT = 1
SWEEP_GRACE_SECONDS = 3


def port_or_free(wanted: int) -> int:
    """The wanted port if nothing listens there (a crashed earlier run may), else any free one."""
    for port in (wanted, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


@dataclass
class Ports:
    moto: int
    web: int
    web_no_cache: int
    closed: int

    @classmethod
    def from_base(cls, base: int) -> "Ports":
        taken: set[int] = set()
        chosen = []
        for offset in range(4):
            port = port_or_free(base + offset)
            while port in taken:
                port = port_or_free(0)
            taken.add(port)
            chosen.append(port)
        return cls(*chosen)


def procfile() -> dict[str, str]:
    lines = (REPO / "Procfile").read_text().splitlines()
    return {name.strip(): command.strip() for name, _, command in (line.partition(":") for line in lines if line.strip())}


@dataclass
class Stack:
    ports: Ports
    var_dir: Path
    broker_db: int
    cache_db: int
    database: str = DATABASE
    # Where the site's processes reach S3: the fault proxy in front of moto.
    s3_url: str = ""
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def database_url(self, application: str) -> str:
        return f"postgres://postgres@127.0.0.1:5432/{self.database}?application_name={application}"

    def env(self, application: str, **overrides: str) -> dict[str, str]:
        """The site's production settings, but plain HTTP on loopback (HTTPS=false)."""
        env = {
            **os.environ,
            "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "deblursite.settings",
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "DEBUG": "false",
            "HTTPS": "false",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PROXY_COUNT": str(PROXY_COUNT),
            "DATABASE_URL": self.database_url(application),
            "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{self.broker_db}",
            "CACHE_URL": f"rediscache://127.0.0.1:6379/{self.cache_db}",
            "AWS_STORAGE_BUCKET_NAME": BUCKETS["media"],
            "DATASETS_BUCKET_NAME": BUCKETS["datasets"],
            "MODELS_BUCKET_NAME": BUCKETS["models"],
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_S3_REGION_NAME": "us-east-1",
            # The site's processes reach S3 through the fault proxy; the probe itself goes direct.
            "AWS_S3_ENDPOINT_URL": self.s3_url,
            "VAR_DIR": str(self.var_dir),
            # As `make run` sets it: staff import server folders from this one only.
            "INGEST_FOLDER_ROOTS": str(self.ingest_root),
            "EMAIL_URL": "consolemail://",
            "LOG_LEVEL": "WARNING",
            # The storage sweep leaves files no row names alone for this long (an upload in
            # flight writes them before its row): short, so that the probe sees it work.
            "STORAGE_SWEEP_GRACE_SECONDS": str(SWEEP_GRACE_SECONDS),
        }
        env.update(overrides)
        return env

    @property
    def ingest_root(self) -> Path:
        return self.var_dir / "incoming"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "probe-logs"

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, command: str, env: dict[str, str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log(name).open("wb") as log:
            process = subprocess.Popen(
                ["bash", "-c", f"exec {command}"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, ended as one
            )
        self.processes[name] = process
        return process

    def start_moto(self) -> None:
        self.start("moto", f"{VENV_BIN / 'python'} -m moto.server -H 127.0.0.1 -p {self.ports.moto}", self.env("moto"))
        wait_for(f"http://127.0.0.1:{self.ports.moto}/moto-api/", "moto", self, name="moto")

    def start_web(self, name: str, port: int, **overrides: str) -> None:
        env = self.env(f"probe-{name}", BIND=f"127.0.0.1:{port}", **overrides)
        self.start(name, procfile()["web"], env)
        wait_for(f"http://127.0.0.1:{port}/", "gunicorn", self, name=name)

    def start_worker(self, entry: str) -> None:
        command = procfile()[entry].replace("%h", f"probe-{os.getpid()}")
        self.start(entry, command, self.env(f"probe-{entry}"))
        deadline = time.monotonic() + 180
        while b" ready." not in self.log(entry).read_bytes():
            self.check_alive(entry)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {entry} worker did not get ready; see {self.log(entry)}")
            time.sleep(0.5)

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=REPO,
            env=self.env("probe-manage"),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {shlex.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout.strip()

    def check_alive(self, name: str) -> None:
        if self.processes[name].poll() is not None:
            tail = self.log(name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited ({self.processes[name].returncode}):\n{tail}")

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop(name)


def wait_for(url: str, what: str, stack: Stack, *, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive(name)
        try:
            requests.get(url, timeout=2, allow_redirects=False)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer at {url}; see {stack.log(name)}")


def fresh_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def flush_redis(*dbs: int) -> None:
    import redis

    for db in dbs:
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


def install_teardown(stack: Stack) -> None:
    """Ends every process the probe started on any exit, Ctrl-C and SIGTERM included."""
    atexit.register(stack.stop_all)

    def on_signal(signum: int, frame) -> None:
        stack.stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
