"""The Python client in docs/api.md runs as printed: it is taken out of the page
and run in a subprocess against a live server, as a real user, on a real photo.
No Celery worker runs in tests, so each job the upload queues is run here, in
a thread of the test process."""

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection
from PIL import Image

from accounts.models import DeviceToken
from conftest import PASSWORD
from gallery import jobs
from gallery.models import Restoration
from gallery.tests.conftest import photo_bytes

pytestmark = pytest.mark.django_db(transaction=True)
DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def python_example() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.S | re.M)
    assert len(blocks) == 1, f"docs/api.md should have exactly one python block, it has {len(blocks)}"
    return blocks[0]


@pytest.fixture
def jobs_run_here(monkeypatch):
    """Each queued job runs in a thread of this process, as a worker would run it."""
    threads = []

    def run(restoration_id: int) -> None:
        try:
            jobs.run(restoration_id)
        finally:
            connection.close()

    def send(restoration_id: int, queue: str) -> None:
        thread = threading.Thread(target=run, args=(restoration_id,), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr("gallery.jobs.send", send)
    yield threads
    for thread in threads:
        thread.join(timeout=120)


def test_python_client_in_the_docs_signs_in_uploads_waits_and_downloads(
    live_server, active_model, jobs_run_here, django_user_model, tmp_path
):
    user = django_user_model.objects.create_user("ada", "ada@example.com", PASSWORD)
    photo = tmp_path / "street-blurred.jpg"
    photo.write_bytes(photo_bytes(size=(160, 120), blur=1.5, seed=11))
    script = tmp_path / "deblur_client.py"
    script.write_text(python_example())
    env = {
        **os.environ,
        "BASE_URL": live_server.url,
        "USERNAME": "ada",
        "PASSWORD": PASSWORD,
        "PHOTO": str(photo),
        "NO_PROXY": "127.0.0.1,localhost",
    }

    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert "Saved street-blurred-deblurred.png" in done.stdout
    with Image.open(tmp_path / "street-blurred-deblurred.png") as result:
        assert result.format == "PNG"
        assert result.size == (160, 120)
    assert Restoration.objects.get(photo__owner=user).status == Restoration.Status.SUCCEEDED
    assert not DeviceToken.objects.filter(user=user).exists(), "the example signs out at the end"
