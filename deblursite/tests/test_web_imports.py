"""Web processes never import TensorFlow (docs/decisions.md): seconds of start-up and hundreds
of MB per gunicorn worker. Only the workers' tasks load it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a gunicorn worker loads: the WSGI app, every URL's view module (and the forms and task
# modules they import), the admin.
WEB = """
import sys
import deblursite.wsgi
from django.urls import get_resolver
get_resolver().url_patterns
import django.contrib.admin
print(" ".join(sorted(name for name in ("tensorflow", "keras") if name in sys.modules)))
"""


def test_the_web_app_and_all_its_views_load_without_tensorflow():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "deblursite.settings"}
    loaded = subprocess.run(
        [sys.executable, "-c", WEB], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []
