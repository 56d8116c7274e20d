"""Shared fixtures: personas, a real small model, and the check that the services
the tests need (PostgreSQL, Redis) are up."""

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

SERVICE_HELP = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
}


def _reachable(url: str, default_port: int) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    services = {
        "PostgreSQL": (os.environ.get("DATABASE_URL", ""), 5432),
        "Redis": (os.environ.get("CELERY_BROKER_URL", ""), 6379),
    }
    for name, (url, port) in services.items():
        if url.startswith(("postgres", "redis")) and not _reachable(url, port):
            pytest.exit(f"{name} is not reachable at {url}. Start it with:\n  {SERVICE_HELP[name]}", returncode=3)


PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole run: each test gets a fresh context of it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium):
    """A desktop-sized page with its own cookies, that accepts downloads."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def fresh_cache():
    """The caches hold the API's throttle counts, cards and links: no test inherits another's."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", PASSWORD)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def use_filesystem_storages(settings, folders: dict[str, Path]) -> None:
    """Point each storage alias at its own folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        **{
            alias: {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(folder), "base_url": None, "allow_overwrite": True},
            }
            for alias, folder in folders.items()
        },
    }


@pytest.fixture
def media_storage(settings, tmp_path):
    """Filesystem storages in a fresh folder for each test."""
    use_filesystem_storages(settings, {alias: tmp_path / alias for alias in ("default", "datasets", "models")})
    return tmp_path


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory):
    """A small, randomly initialised NAFNet-style generator saved as .keras: every
    inference path runs for real on it, fast. Seeded: some draws of its weights change a
    photo too little for the gate, which then keeps the photo as it was, and tests that
    expect the model's output failed at random (CI, 2026-12-07)."""
    import keras

    from inference.nets import build_nafnet

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    build_nafnet(width=8, enc_blocks=(1, 1), middle_blocks=1, dec_blocks=(1, 1)).save(path)
    return path


@pytest.fixture(scope="session")
def tiny_gan_file(tmp_path_factory):
    """A second small generator, a DeblurGAN, for tests that tell two models apart."""
    import keras

    from inference.nets import build_deblurgan

    keras.utils.set_random_seed(1)  # as tiny_model_file
    path = tmp_path_factory.mktemp("model") / "tiny-gan.keras"
    build_deblurgan(filters=4, n_blocks=1).save(path)
    return path


@pytest.fixture
def active_model(db, media_storage, tiny_model_file, settings):
    """The tiny model, serving both choices, in float32 whatever the CPU: its random weights
    change a photo so little that bfloat16's rounding can turn "sharper" into "little change"
    (inference/tests/test_precision.py checks bfloat16 on real models)."""
    from inference.registry import register_model

    settings.INFERENCE_PRECISION = "float32"

    return register_model(tiny_model_file, name="tiny-test", serve=["best", "fast"])


@pytest.fixture
def two_models(db, media_storage, tiny_model_file, tiny_gan_file) -> dict:
    """A model per choice: "best" served by the tiny NAFNet, "fast" by the tiny DeblurGAN."""
    from inference.registry import register_model

    return {
        "best": register_model(tiny_model_file, name="tiny-best", serve=["best"], notes="The tiny NAFNet. For tests."),
        "fast": register_model(tiny_gan_file, name="tiny-fast", serve=["fast"], notes="The tiny DeblurGAN. For tests."),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto in server mode on loopback: a real S3 endpoint spoken to over HTTP."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


S3_CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


def s3_options(endpoint: str, bucket: str) -> dict:
    return {
        **S3_CREDENTIALS,
        "endpoint_url": endpoint,
        "bucket_name": bucket,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "signature_version": "s3v4",
        "file_overwrite": True,
    }


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    """Every storage on its own fresh bucket of the moto server; returns a boto3
    client and the bucket of each storage alias."""
    import uuid

    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    buckets = {alias: f"{alias}-{uuid.uuid4().hex[:12]}" for alias in ("default", "datasets", "models")}
    for bucket in buckets.values():
        client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        **{
            alias: {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options(s3_endpoint, bucket)}
            for alias, bucket in buckets.items()
        },
    }
    return client, buckets


@pytest.fixture
def migrate():
    """migrate(targets): the database migrated to those migrations, and the historical models
    (apps) there; afterwards it is taken back to the latest migrations."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def to(targets: list[tuple[str, str]]):
        executor = MigrationExecutor(connection)
        executor.migrate(targets)
        executor.loader.build_graph()
        return executor.loader.project_state(targets).apps

    yield to
    to(MigrationExecutor(connection).loader.graph.leaf_nodes())
