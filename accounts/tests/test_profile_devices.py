"""The signed-in devices (API tokens) on the profile page, and revoking one there."""

from datetime import timedelta
from uuid import uuid4

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import DeviceToken
from accounts.tokens import issue_token


def token_works(token: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    status = client.get(reverse("api:me")).status_code
    assert status in (200, 401)
    return status == 200


def revoke_url(device: DeviceToken) -> str:
    return reverse("revoke-device", kwargs={"pk": device.public_id})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_profile_lists_own_devices_only(alice_client, alice, bob):
    phone, _ = issue_token(alice, "Alice's Pixel")
    issue_token(alice, "Alice's iPad")
    expired, _ = issue_token(alice, "Alice's old phone")
    DeviceToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    bobs, _ = issue_token(bob, "Bob's phone")

    response = alice_client.get(reverse("profile"))

    assert response.status_code == 200
    assert [d.device_name for d in response.context["devices"]] == ["Alice's iPad", "Alice's Pixel"]
    body = response.content.decode()
    assert "Alice&#x27;s Pixel" in body and "Alice&#x27;s iPad" in body
    assert f'action="{revoke_url(phone)}"' in body
    assert "old phone" not in body
    assert "Bob" not in body
    assert str(bobs.public_id) not in body


def test_profile_escapes_device_names(alice_client, alice):
    issue_token(alice, "<script>alert(1)</script>")

    body = alice_client.get(reverse("profile")).content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_profile_without_devices_says_so(alice_client):
    body = alice_client.get(reverse("profile")).content.decode()

    assert "No app is signed in." in body
    assert 'class="devices"' not in body


def test_revoke_a_device_from_the_profile(alice_client, alice):
    phone, phone_token = issue_token(alice, "Phone")
    _, tablet_token = issue_token(alice, "Tablet")

    response = alice_client.post(revoke_url(phone))

    assert response.status_code == 302
    assert response["Location"] == reverse("profile")
    assert messages_of(response) == ["Signed out that device: its API token no longer works."]
    assert not token_works(phone_token)
    assert token_works(tablet_token)
    assert "Phone" not in [d.device_name for d in alice_client.get(reverse("profile")).context["devices"]]


def test_revoking_twice_says_it_was_already_done(alice_client, alice):
    phone, _ = issue_token(alice, "Phone")
    alice_client.post(revoke_url(phone), follow=True)  # the profile page shows the first message

    response = alice_client.post(revoke_url(phone))

    assert response["Location"] == reverse("profile")
    assert messages_of(response) == ["That device was already signed out."]


def test_cannot_revoke_someone_elses_device(client, alice, bob):
    phone, token = issue_token(alice, "Phone")
    client.force_login(bob)

    response = client.post(revoke_url(phone))

    assert response.status_code == 302
    assert messages_of(response) == ["That device was already signed out."]
    assert DeviceToken.objects.filter(pk=phone.pk).exists()
    assert token_works(token)


def test_revoke_needs_post(alice_client, alice):
    phone, token = issue_token(alice, "Phone")

    assert alice_client.get(revoke_url(phone)).status_code == 405
    assert token_works(token)


def test_revoke_needs_login(client, alice):
    phone, token = issue_token(alice, "Phone")

    response = client.post(revoke_url(phone))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert token_works(token)


def test_revoke_needs_the_csrf_token(alice):
    phone, token = issue_token(alice, "Phone")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    assert browser.post(revoke_url(phone)).status_code == 403
    assert token_works(token)


def test_revoking_an_unknown_device(alice_client):
    response = alice_client.post(reverse("revoke-device", kwargs={"pk": uuid4()}))

    assert response["Location"] == reverse("profile")
    assert messages_of(response) == ["That device was already signed out."]
