import re

import pytest
from django.core import mail
from django.urls import reverse

from conftest import PASSWORD

NEW_PASSWORD = "a brand new long passphrase"


def test_login_redirects_to_history(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("gallery:history")
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_login_follows_next(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD, "next": reverse("profile")})

    assert response["Location"] == reverse("profile")


def test_wrong_password_shows_error(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(alice_client):
    assert alice_client.get(reverse("logout")).status_code == 405

    response = alice_client.post(reverse("logout"))

    assert response["Location"] == reverse("home")
    assert "_auth_user_id" not in alice_client.session


def test_password_change_keeps_session(alice_client, alice):
    response = alice_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert alice_client.get(reverse("profile")).status_code == 200


def test_password_change_needs_old_password(alice_client, alice):
    response = alice_client.post(
        reverse("password_change"),
        {"old_password": "guess", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.context["form"].errors["old_password"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_reset_by_email(client, alice):
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)

    # The link swaps its token into the session and redirects, so the token never reaches a Referer.
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == reverse("password_reset_complete")

    login = client.post(reverse("login"), {"username": "alice", "password": NEW_PASSWORD})
    assert login["Location"] == reverse("gallery:history")
    # The link is single use: the new password changed the hash its token was made from.
    assert not client.get(link, follow=True).context["validlink"]


@pytest.mark.django_db
def test_password_reset_for_unknown_address_looks_the_same(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
