"""A new password signs out every device: API tokens issued before it stop working,
and so do other browser sessions; the session that changed the password stays."""

import re

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.tests.test_api import works
from accounts.tests.test_auth import NEW_PASSWORD
from accounts.tokens import issue_token
from conftest import PASSWORD


def signed_in_browser(username: str = "alice") -> Client:
    browser = Client()
    assert browser.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return browser


def signed_in(browser: Client) -> bool:
    return browser.get(reverse("profile")).status_code == 200


def test_a_password_change_signs_out_devices_and_other_browsers(alice, bob):
    _, phone = issue_token(alice, "phone")
    _, bobs_phone = issue_token(bob, "phone")
    this_browser, other_browser = signed_in_browser(), signed_in_browser()
    profile = this_browser.get(reverse("profile")).content.decode()
    assert "A new password signs out every device and every other browser" in profile

    changed = this_browser.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert "Every device signed in through the API and every other browser were signed out" in changed.content.decode()
    assert not works(phone)
    assert signed_in(this_browser)
    assert not signed_in(other_browser)
    # Someone else's devices are theirs.
    assert works(bobs_phone)


def test_a_password_reset_signs_out_devices_and_browsers(client, alice):
    _, phone = issue_token(alice, "phone")
    browser = signed_in_browser()

    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )

    assert "was signed out" in done.content.decode()
    assert not works(phone)
    assert not signed_in(browser)


def test_any_new_password_ends_the_tokens_but_a_hash_upgrade_at_sign_in_does_not(alice):
    _, phone = issue_token(alice, "phone")
    # A hash made with fewer iterations than today's: signing in re-hashes the same password.
    old_hash = PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt", iterations=1000)
    type(alice).objects.filter(pk=alice.pk).update(password=old_hash)

    signed_in_browser()

    alice.refresh_from_db()
    assert alice.password != old_hash
    assert works(phone)
    # As the admin's password form and `manage.py changepassword` do.
    alice.set_password(NEW_PASSWORD)
    alice.save()
    assert not works(phone)


def test_disabling_password_sign_in_in_the_admin_ends_the_tokens(alice, bob, admin_client):
    _, phone = issue_token(alice, "phone")
    _, bobs_phone = issue_token(bob, "phone")

    # The admin's "Disable password-based authentication" on Alice's password form.
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[alice.pk]),
        {"usable_password": "false", "password1": "", "password2": "", "unset-password": "1"},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert not alice.has_usable_password()
    assert not works(phone) and works(bobs_phone)
