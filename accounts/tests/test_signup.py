import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

GOOD = {
    "username": "carol",
    "email": "carol@example.com",
    "password1": "plum tree under snow",
    "password2": "plum tree under snow",
}


@pytest.mark.django_db
def test_signup_creates_account_logs_in_and_goes_to_history(client):
    response = client.post(reverse("signup"), GOOD)

    assert response.status_code == 302
    assert response["Location"] == reverse("gallery:history")
    carol = get_user_model().objects.get(username="carol")
    assert carol.email == "carol@example.com"
    assert carol.check_password(GOOD["password1"])
    assert client.session["_auth_user_id"] == str(carol.pk)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"username": "alice"}, "username"),
        ({"username": "ALICE"}, "username"),
        ({"email": "Alice@Example.com"}, "email"),
        ({"email": ""}, "email"),
        ({"password1": "12345678", "password2": "12345678"}, "password2"),
        ({"password1": "password", "password2": "password"}, "password2"),
        ({"password2": "plum tree under rain"}, "password2"),
    ],
    ids=["taken-username", "taken-username-other-case", "taken-email", "no-email", "numeric", "common", "mismatch"],
)
def test_signup_rejects(client, alice, changes, field):
    response = client.post(reverse("signup"), {**GOOD, **changes})

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert get_user_model().objects.count() == 1
    assert "_auth_user_id" not in client.session
