import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command


def ensure_admin(*args: str) -> str:
    out = StringIO()
    call_command("ensure_admin", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_creates_admin_with_a_fresh_random_password():
    output = ensure_admin()

    password = re.search(r"Password: (\S+)", output).group(1)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.email == "admin@localhost"
    assert admin.check_password(password)
    assert "http://127.0.0.1:8000/admin/" in output
    assert "http://127.0.0.1:8000/accounts/login/" in output
    assert "change it" in output

    admin.delete()
    second = re.search(r"Password: (\S+)", ensure_admin()).group(1)
    assert second != password


def test_leaves_an_existing_superuser_alone(alice):
    alice.is_superuser = True
    alice.save()

    output = ensure_admin()

    assert "already exists" in output
    assert "Password" not in output
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["alice"]


@pytest.mark.django_db
def test_refuses_to_promote_an_ordinary_user_named_admin(django_user_model):
    django_user_model.objects.create_user("admin", password="x")

    with pytest.raises(CommandError, match="not a superuser"):
        ensure_admin()
    assert not django_user_model.objects.filter(is_superuser=True).exists()
