"""The production-like stack the probe runs against, on loopback: the moto S3 server (that
the site reaches through the fault proxy of deblursite/tests/faults.py), a PostgreSQL
database and Redis databases of its own run's (which the site's processes reach through TCP
proxies that a case can cut), gunicorn and the Celery workers started from the Procfile's own
lines. Everything it starts is in a process group of its own, and everything it starts or
makes is ended or removed on exit, however the probe ends."""

import atexit
import multiprocessing
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BUCKETS = {"media": "probe-media", "datasets": "probe-datasets", "models": "probe-models"}
# Behind one TLS proxy, as in production: the probe plays its clients through X-Forwarded-For.
PROXY_COUNT = 1
SWEEP_GRACE_SECONDS = 3
POSTGRES_PORT, REDIS_PORT = 5432, 6379
# The Procfile's workers the probe starts (etl and train are not: no ingestion or training).
WORKERS = ("deblur", "deblur-long", "downloads", "maintenance")
# Set in each Redis database a run claims, to its run's id: no other run takes a database
# that holds a key, and a run flushes only the databases that still name it.
CLAIM_KEY = "deblur-probe:claimed-by"
# Database 0 is where anything without a number goes; the probe never takes it.
REDIS_DATABASES = range(15, 0, -1)


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


class TcpProxy:
    """A TCP forwarder on a loopback port in front of a service (PostgreSQL, Redis), for the
    site's processes. `cut` ends every connection through it and refuses new ones, as a
    stopped server would; `restore` lets new connections through again. It forwards in a
    process of its own: in the probe's, its threads would wait for the interpreter behind
    the load generator, and every query of the site with them (the gallery's read load gave
    half its requests a second)."""

    def __init__(self, upstream_port: int) -> None:
        self.port = port_or_free(0)
        self.commands, theirs = multiprocessing.get_context("fork").Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_forward, args=(upstream_port, self.port, theirs), daemon=True
        )
        self.process.start()
        self.commands.recv()  # listening

    def _tell(self, command: str) -> None:
        if self.process.is_alive():
            self.commands.send(command)
            self.commands.recv()

    def cut(self) -> None:
        self._tell("cut")

    def restore(self) -> None:
        self._tell("restore")

    def close(self) -> None:
        self._tell("cut")
        self.process.terminate()
        self.process.join(5)


def _forward(upstream_port: int, port: int, commands) -> None:
    """The proxy's process: forward, and obey the commands until the probe ends it."""
    forwarder = _Forwarder(upstream_port, port)
    commands.send("ready")
    while True:
        getattr(forwarder, commands.recv())()
        commands.send("done")


class _Forwarder:
    def __init__(self, upstream_port: int, port: int) -> None:
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.port = port
        self.restore()

    def restore(self) -> None:
        with self.lock:
            if self.listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(128)
            self.listener, self.port = listener, listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
            sockets, self.open = self.open, set()
        if listener is not None:
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            listener.close()
        for sock in sockets:
            _reset(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
                server.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self.lock:
                cut = self.listener is not listener
                if not cut:
                    self.open.update((client, server))
            if cut:
                for sock in (client, server):
                    _reset(sock)
                continue
            ends = threading.Semaphore(0)  # the first direction to end releases it
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink, ends), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, ends: threading.Semaphore) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:  # one side is gone: end the other direction too
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        # The second direction to end closes the connection's two sockets.
        if ends.acquire(blocking=False):
            with self.lock:
                self.open.difference_update((source, sink))
            for sock in (source, sink):
                _reset(sock)
        else:
            ends.release()


def _reset(sock: socket.socket) -> None:
    """End a connection at once on both ends, as a stopped server's would end. shutdown()
    first: close() alone leaves a socket open while another thread waits in recv() on it, so
    the far end (a worker's BRPOP) would go on waiting, and an answer sent later be lost."""
    for end in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
        try:
            end()
        except OSError:
            pass


@dataclass
class Stack:
    ports: Ports
    var_dir: Path
    # None: Redis databases this run claims (empty ones, CLAIM_KEY set), flushed at the end.
    broker_db: int | None = None
    cache_db: int | None = None
    # None: a database of this run's own name, dropped at the end. A given one is dropped
    # and made again at the start, and kept at the end to be looked at.
    database: str | None = None
    run_id: str = field(default_factory=lambda: f"{secrets.token_hex(4)}")
    # Where the site's processes reach S3: the fault proxy in front of moto.
    s3_url: str = ""
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # What the site's processes reach PostgreSQL and the broker's Redis through.
    database_proxy: TcpProxy | None = None
    broker_proxy: TcpProxy | None = None
    made_database: str = ""
    claimed: list[int] = field(default_factory=list)

    def make_storage(self) -> None:
        """The database and Redis databases of this run, and the proxies to them."""
        if self.database is None:
            self.database = f"deblur_probe_{self.run_id}"
            self.made_database = self.database
            _admin(f"CREATE DATABASE {self.database}")
        else:
            _admin(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            _admin(f"CREATE DATABASE {self.database}")
        if self.broker_db is None:
            self.broker_db = self._claim_redis()
        else:
            _redis(self.broker_db).flushdb()
        if self.cache_db is None:
            self.cache_db = self._claim_redis()
        else:
            _redis(self.cache_db).flushdb()
        self.database_proxy, self.broker_proxy = TcpProxy(POSTGRES_PORT), TcpProxy(REDIS_PORT)

    def _claim_redis(self) -> int:
        for db in REDIS_DATABASES:
            if _redis(db).eval(_CLAIM_IF_EMPTY, 1, CLAIM_KEY, self.run_id):
                self.claimed.append(db)
                return db
        raise RuntimeError("no empty Redis database to claim; give --broker-db and --cache-db")

    def teardown(self) -> None:
        """Ends what the run started and removes what it made; safe to call more than once."""
        self.stop_all()
        for proxy in (self.database_proxy, self.broker_proxy):
            if proxy is not None:
                proxy.close()
        while self.claimed:
            _redis(self.claimed.pop()).eval(_FLUSH_IF_CLAIMED, 1, CLAIM_KEY, self.run_id)
        if self.made_database:
            name, self.made_database = self.made_database, ""
            _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def database_url(self, application: str, direct: bool = False) -> str:
        port = POSTGRES_PORT if direct or self.database_proxy is None else self.database_proxy.port
        return f"postgres://postgres@127.0.0.1:{port}/{self.database}?application_name={application}"

    def broker_url(self, direct: bool = False) -> str:
        port = REDIS_PORT if direct or self.broker_proxy is None else self.broker_proxy.port
        return f"redis://127.0.0.1:{port}/{self.broker_db}"

    def env(self, application: str, direct: bool = False, **overrides: str) -> dict[str, str]:
        """The site's production settings, but plain HTTP on loopback (HTTPS=false). The
        site's processes reach PostgreSQL and the broker through the proxies; `direct`, the
        probe's own process and its manage.py commands."""
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
            "DATABASE_URL": self.database_url(application, direct),
            "CELERY_BROKER_URL": self.broker_url(direct),
            "CACHE_URL": f"rediscache://127.0.0.1:{REDIS_PORT}/{self.cache_db}",
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

    def start_web(self, name: str, port: int, direct: bool = False, **overrides: str) -> None:
        env = self.env(f"probe-{name}", direct, BIND=f"127.0.0.1:{port}", **overrides)
        self.start(name, procfile()["web"], env)
        wait_for(f"http://127.0.0.1:{port}/", "gunicorn", self, name=name)

    def start_worker(self, entry: str, **overrides: str) -> None:
        command = procfile()[entry].replace("%h", f"probe-{os.getpid()}")
        self.start(entry, command, self.env(f"probe-{entry}", **overrides))
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
            env=self.env("probe-manage", direct=True),
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

    def kill(self, name: str) -> None:
        """SIGKILL a process's whole group at once, as the OOM killer or a lost host would:
        no warm shutdown, nothing handed back to the broker."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

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


# Atomic in Redis: a database is claimed only while it holds no key, and flushed only while
# it still names this run.
_CLAIM_IF_EMPTY = "if redis.call('DBSIZE') == 0 then redis.call('SET', KEYS[1], ARGV[1]) return 1 end return 0"
_FLUSH_IF_CLAIMED = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('FLUSHDB') return 1 end return 0"


def _redis(db: int):
    import redis

    return redis.Redis(host="127.0.0.1", port=REDIS_PORT, db=db)


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


def install_teardown(stack: Stack) -> None:
    """Ends every process the probe started, and removes what it made, on any exit, Ctrl-C
    and SIGTERM included."""
    atexit.register(stack.teardown)

    def on_signal(signum: int, frame) -> None:
        stack.teardown()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
