from django.urls import reverse

from gallery.models import Photo


def add_photo(owner, bytes_stored: int) -> Photo:
    return Photo.objects.create(
        owner=owner,
        original="originals/x.png",
        original_name="x.png",
        width=10,
        height=10,
        mode="RGB",
        bytes_stored=bytes_stored,
    )


def test_profile_needs_login(client, db):
    response = client.get(reverse("profile"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('profile')}"


def test_profile_shows_own_usage_against_quota(alice_client, alice, bob, settings):
    settings.USER_QUOTA_BYTES = 10 * 1024 * 1024
    add_photo(alice, 2 * 1024 * 1024)
    add_photo(alice, 512 * 1024)
    add_photo(bob, 5 * 1024 * 1024)

    response = alice_client.get(reverse("profile"))

    assert response.status_code == 200
    usage = response.context["usage"]
    assert (usage.photo_count, usage.bytes_used, usage.percent_used) == (2, 2560 * 1024, 25)
    body = response.content.decode()
    assert "alice@example.com" in body
    assert "2.5\xa0MB of 10.0\xa0MB (25%)" in body
    assert f'max="{10 * 1024 * 1024}" value="{2560 * 1024}"' in body
