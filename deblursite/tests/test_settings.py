import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7Qm2-production-like-secret-key-of-fifty-plus-random-characters-9fK",
    "ALLOWED_HOSTS": "deblur.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/deblur",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "AWS_STORAGE_BUCKET_NAME": "deblur-media",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only the machine's environment: none of the test run's own settings.
    test_only = {"STATICFILES_BACKEND", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in test_only}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check_with_no_warning(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "VAR_DIR": str(tmp_path)})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_catches_debug_left_on(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "DEBUG": "true", "VAR_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_the_proxy_ssl_header_is_trusted_by_default_and_can_be_turned_off(settings, tmp_path):
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    show = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"

    result = manage("shell", "-c", show, env={**PRODUCTION, "TRUST_PROXY_SSL_HEADER": "false", "VAR_DIR": str(tmp_path)})

    assert result.stdout.strip().splitlines()[-1] == "None", result.stderr
