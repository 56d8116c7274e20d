"""The account side of the REST API (/api/v1/): sign-up, per-device knox tokens
(sign in, sign out, list, revoke, expiry), the sign-in lockout and throttle, /me/,
and CORS."""

from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api import AuthRateThrottle
from accounts.models import DeviceToken
from accounts.tests.test_profile import add_photo
from accounts.tokens import issue_token
from conftest import PASSWORD

CLIENT_IP = "192.0.2.10"
OTHER_IP = "198.51.100.20"
NEW_USER = {"username": "carol", "email": "carol@example.com", "password": "plum tree under snow"}
DEVICE_FIELDS = {"id", "device_name", "created", "expiry", "current"}
USER_FIELDS = {"id", "username", "email", "date_joined"}
LOCKOUT = {"detail": "Too many failed sign-ins. Try again in 60 seconds."}


@pytest.fixture
def ttl(settings) -> timedelta:
    return settings.REST_KNOX["TOKEN_TTL"]


@pytest.fixture
def auth_rate_3_per_minute(settings, monkeypatch) -> int:
    """The auth throttle at 3 a minute. DRF copies DEFAULT_THROTTLE_RATES onto
    SimpleRateThrottle.THROTTLE_RATES when the class is defined, so overriding
    settings.REST_FRAMEWORK alone changes nothing: the class attribute is patched."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", rates)
    return 3


# --- helpers -----------------------------------------------------------------


def api(token: str | None = None, **defaults) -> APIClient:
    client = APIClient(**defaults)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def register(data: dict, ip: str = CLIENT_IP, client: APIClient | None = None):
    return (client or api()).post(reverse("api:register"), data, format="json", REMOTE_ADDR=ip)


def sign_in(
    username: str = "alice",
    password: str = PASSWORD,
    device_name: str | None = "Pixel 8",
    ip: str = CLIENT_IP,
    client: APIClient | None = None,
):
    data = {"username": username, "password": password}
    if device_name is not None:
        data["device_name"] = device_name
    return (client or api()).post(reverse("api:token"), data, format="json", REMOTE_ADDR=ip)


def signed_in_token(username: str = "alice", device_name: str = "Pixel 8", ip: str = CLIENT_IP) -> str:
    response = sign_in(username, device_name=device_name, ip=ip)
    assert response.status_code == 201, response.content
    return response.json()["token"]


def me(token: str):
    return api(token).get(reverse("api:me"))


def works(token: str) -> bool:
    status = me(token).status_code
    assert status in (200, 401)
    return status == 200


def sign_out(token: str):
    return api(token).delete(reverse("api:token"))


def list_devices(token: str) -> list[dict]:
    response = api(token).get(reverse("api:devices"))
    assert response.status_code == 200
    return response.json()


def revoke(token: str, device: DeviceToken):
    return api(token).delete(reverse("api:device", kwargs={"pk": device.public_id}))


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def assert_near(moment: datetime, expected: datetime, within: timedelta = timedelta(seconds=30)) -> None:
    assert abs(moment - expected) < within, f"{moment} is not within {within} of {expected}"


def expire(device: DeviceToken, ago: timedelta = timedelta(minutes=1)) -> None:
    DeviceToken.objects.filter(pk=device.pk).update(expiry=timezone.now() - ago)


def user_count() -> int:
    return get_user_model().objects.count()


# --- register ----------------------------------------------------------------


@pytest.mark.django_db
def test_register_creates_the_account_and_it_can_sign_in():
    response = register(NEW_USER)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == USER_FIELDS
    assert "password" not in response.content.decode()
    assert NEW_USER["password"] not in response.content.decode()
    carol = get_user_model().objects.get(username="carol")
    assert (body["id"], body["username"], body["email"]) == (carol.pk, "carol", "carol@example.com")
    assert carol.check_password(NEW_USER["password"])
    assert not carol.is_staff and not carol.is_superuser

    signed_in = sign_in("carol", NEW_USER["password"])
    assert signed_in.status_code == 201
    assert signed_in.json()["user"]["id"] == carol.pk


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"password": "password"}, "password", "This password is too common."),
        ({"password": "12345678901"}, "password", "This password is entirely numeric."),
        ({"password": "sh0rt"}, "password", "This password is too short. It must contain at least 8 characters."),
        (
            {"username": "riverstone", "password": "riverstone1"},
            "password",
            "The password is too similar to the username.",
        ),
        ({"username": "alice"}, "username", "A user with that username already exists."),
        ({"username": "ALICE"}, "username", "A user with that username already exists."),
        ({"email": "Alice@Example.COM"}, "email", "An account with this email address already exists."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"username": "no spaces allowed"}, "username", None),
    ],
    ids=[
        "common",
        "numeric",
        "short",
        "like-username",
        "taken",
        "taken-other-case",
        "email-taken",
        "bad-email",
        "bad-username",
    ],
)
def test_register_rejects(alice, changes, field, message):
    response = register({**NEW_USER, **changes})

    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    if message is not None:
        assert message in errors[field]
    assert user_count() == 1


@pytest.mark.django_db
def test_register_reports_every_missing_field():
    response = register({})

    assert response.status_code == 400
    assert response.json() == {field: ["This field is required."] for field in ("username", "email", "password")}
    assert user_count() == 0


def test_register_says_what_the_signup_form_says_about_a_taken_email(client, alice):
    """One set of rules and messages for both ways in."""
    password = NEW_USER["password"]
    form = client.post(
        reverse("signup"),
        {"username": "carol", "email": "ALICE@example.com", "password1": password, "password2": password},
    ).context["form"]

    response = register({**NEW_USER, "email": "ALICE@example.com"})

    assert response.json()["email"] == form.errors["email"]


@pytest.mark.django_db
def test_register_ignores_privileges_and_ids_sent_by_the_client():
    response = register({**NEW_USER, "is_staff": True, "is_superuser": True, "id": 424242})

    assert response.status_code == 201
    carol = get_user_model().objects.get(username="carol")
    assert (carol.is_staff, carol.is_superuser) == (False, False)
    assert carol.pk != 424242
    assert response.json()["id"] == carol.pk


def test_register_needs_no_credentials_and_ignores_stale_ones(alice):
    response = register(NEW_USER, client=api("not-a-real-token"))

    assert response.status_code == 201


# --- sign in (POST /auth/token/) -----------------------------------------------


def test_sign_in_returns_a_working_token_for_the_device(alice, ttl):
    response = sign_in(device_name="Alice's Pixel 8")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expiry", "device", "user"}
    assert set(body["device"]) == DEVICE_FIELDS
    device = DeviceToken.objects.get(user=alice)
    assert body["device"]["id"] == str(device.public_id)
    assert body["device"]["device_name"] == "Alice's Pixel 8" == device.device_name
    assert body["device"]["current"] is True
    assert parse_time(body["expiry"]) == parse_time(body["device"]["expiry"]) == device.expiry
    assert_near(parse_time(body["expiry"]), timezone.now() + ttl)
    assert set(body["user"]) == USER_FIELDS
    assert (body["user"]["id"], body["user"]["username"]) == (alice.pk, "alice")
    # Only a hash is kept.
    assert body["token"] not in {device.digest, device.token_key}

    mine = me(body["token"])
    assert mine.status_code == 200
    assert mine.json()["user"]["id"] == alice.pk


@pytest.mark.parametrize(
    "username, password", [("alice", "wrong"), ("nobody", PASSWORD)], ids=["wrong-password", "unknown-user"]
)
def test_sign_in_refuses_bad_credentials_alike(alice, username, password):
    response = sign_in(username, password)

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to sign in with these credentials."]}
    assert not DeviceToken.objects.exists()


def test_sign_in_refuses_an_inactive_user(alice):
    alice.is_active = False
    alice.save()

    response = sign_in()

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to sign in with these credentials."]}
    assert not DeviceToken.objects.exists()


def test_a_deactivated_users_token_stops_working(alice):
    token = signed_in_token()
    alice.is_active = False
    alice.save()

    assert not works(token)


@pytest.mark.parametrize(
    "device_name, message",
    [
        (None, "This field is required."),
        ("", "This field may not be blank."),
        ("x" * 101, "Ensure this field has no more than 100 characters."),
    ],
    ids=["missing", "blank", "too-long"],
)
def test_sign_in_needs_a_device_name(alice, device_name, message):
    response = sign_in(device_name=device_name)

    assert response.status_code == 400
    assert response.json() == {"device_name": [message]}
    assert not DeviceToken.objects.exists()


def test_each_sign_in_is_a_device_of_its_own(alice):
    phone = signed_in_token(device_name="Phone")
    tablet = signed_in_token(device_name="Tablet")

    assert phone != tablet
    assert works(phone) and works(tablet)
    assert sorted(DeviceToken.objects.filter(user=alice).values_list("device_name", flat=True)) == ["Phone", "Tablet"]


@pytest.mark.parametrize("header", ["Token garbage", "Token ", "Token a b", "Bearer whatever"])
def test_sign_in_ignores_garbage_credentials_sent_along(alice, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert sign_in(client=client).status_code == 201


def test_sign_in_ignores_a_revoked_token_sent_along(alice):
    stale = signed_in_token(device_name="Old phone")
    assert sign_out(stale).status_code == 204

    response = sign_in(device_name="New phone", client=api(stale))

    assert response.status_code == 201
    assert works(response.json()["token"])


def test_sign_in_ignores_a_session_cookie_and_its_csrf_check(alice, bob):
    """A browser signed in to the site as bob can still sign in a device for alice:
    POST uses no authenticator, so neither bob's session nor its CSRF rule applies."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(bob)

    response = sign_in(client=client)

    assert response.status_code == 201
    assert response.json()["user"]["id"] == alice.pk


def test_token_limit_per_user(alice, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    first = signed_in_token(device_name="One")
    signed_in_token(device_name="Two")

    response = sign_in(device_name="Three")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "You are signed in on 2 devices, the most allowed. Sign out on one of them, "
        "or revoke one on your profile page."
    }
    assert DeviceToken.objects.filter(user=alice).count() == 2

    # Signing out on one makes room again.
    assert sign_out(first).status_code == 204
    assert sign_in(device_name="Three").status_code == 201


def test_token_limit_is_per_user(alice, bob, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 1}
    signed_in_token("alice")

    assert sign_in("bob").status_code == 201


def test_expired_tokens_do_not_count_toward_the_limit(alice, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    for name in ("Old phone", "Old tablet"):
        expire(issue_token(alice, name)[0])

    response = sign_in(device_name="New phone")

    assert response.status_code == 201
    assert list(DeviceToken.objects.filter(user=alice).values_list("device_name", flat=True)) == ["New phone"]


# --- lockout (django-axes) --------------------------------------------------------


def fail_sign_ins(usernames: list[str], ips: list[str]) -> list[int]:
    return [sign_in(name, "wrong", ip=ip).status_code for name, ip in zip(usernames, ips, strict=True)]


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert response.json() == LOCKOUT
    assert response["Retry-After"] == "60"


@pytest.fixture
def five_failures(settings) -> int:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(seconds=60)
    return settings.AXES_FAILURE_LIMIT


def test_wrong_passwords_lock_the_account_from_that_address(alice, bob, five_failures):
    attacker = "203.0.113.7"
    statuses = fail_sign_ins(["alice"] * five_failures, [attacker] * five_failures)

    # The failure that reaches the limit is itself answered with the lockout.
    assert statuses == [400] * (five_failures - 1) + [429]
    # Even the right password.
    assert_locked_out(sign_in("alice", PASSWORD, ip=attacker))
    assert not DeviceToken.objects.exists()
    # Another account on the same address, and the same account from elsewhere, sign in.
    assert sign_in("bob", ip=attacker).status_code == 201
    assert sign_in("alice", ip=OTHER_IP).status_code == 201


def test_web_and_api_failures_count_together(client, alice, five_failures):
    for _ in range(five_failures - 1):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"}, REMOTE_ADDR=CLIENT_IP)

    assert_locked_out(sign_in("alice", "wrong", ip=CLIENT_IP))
    # And the web log-in is locked by the API's failures alike.
    web = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR=CLIENT_IP)
    assert web.status_code == 429


def test_an_existing_token_keeps_working_during_a_lockout(alice, five_failures):
    """The lock is on signing in; a device already signed in is not signed out."""
    token = signed_in_token()
    fail_sign_ins(["alice"] * five_failures, [CLIENT_IP] * five_failures)

    assert works(token)


# --- throttling ---------------------------------------------------------------------


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_register_is_throttled_per_ip(db, auth_rate_3_per_minute):
    accounts = [{**NEW_USER, "username": f"user{n}", "email": f"u{n}@example.com"} for n in range(4)]
    assert [register(account).status_code for account in accounts[:3]] == [201] * 3

    assert_throttled(register(accounts[3]))
    assert user_count() == 3
    assert register(NEW_USER, ip=OTHER_IP).status_code == 201


def test_sign_in_is_throttled_per_ip(alice, auth_rate_3_per_minute):
    assert [sign_in(device_name=f"Device {n}").status_code for n in range(3)] == [201] * 3

    assert_throttled(sign_in(device_name="Device 4"))
    assert DeviceToken.objects.count() == 3
    assert sign_in(device_name="Device 4", ip=OTHER_IP).status_code == 201


def test_sign_up_and_sign_in_share_one_count(alice, auth_rate_3_per_minute):
    assert sign_in().status_code == 201
    assert register({}).status_code == 400  # refused attempts count too
    assert sign_in(device_name=None).status_code == 400

    assert_throttled(register(NEW_USER))
    assert_throttled(sign_in())


def test_throttle_counts_the_client_whoever_is_signed_in(alice, bob, auth_rate_3_per_minute):
    """Sending a token along does not buy a fresh allowance."""
    for _ in range(3):
        sign_in()

    assert_throttled(sign_in(client=api(issue_token(bob, "Elsewhere")[1])))


def test_throttle_cannot_be_dodged_with_a_forged_forwarded_for(alice, auth_rate_3_per_minute):
    """With no proxy configured (PROXY_COUNT 0) the client's address is REMOTE_ADDR:
    a made-up X-Forwarded-For must not count as another client."""
    for n in range(3):
        assert sign_in(device_name=f"Device {n}", client=api(HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")).status_code == 201

    assert_throttled(sign_in(client=api(HTTP_X_FORWARDED_FOR="10.0.0.99")))


def test_signing_out_and_other_calls_are_not_throttled(alice, auth_rate_3_per_minute):
    token = signed_in_token()
    for _ in range(2):
        sign_in()
    assert_throttled(sign_in())

    assert me(token).status_code == 200
    assert api(token).get(reverse("api:devices")).status_code == 200
    assert sign_out(token).status_code == 204


# --- expiry ---------------------------------------------------------------------------


def test_an_expired_token_is_refused_and_deleted(alice):
    device, token = issue_token(alice, "Old phone")
    expire(device)

    response = me(token)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert not DeviceToken.objects.filter(pk=device.pk).exists()


def test_each_request_moves_the_expiry_forward(alice, ttl):
    device, token = issue_token(alice, "Phone")
    DeviceToken.objects.filter(pk=device.pk).update(expiry=timezone.now() + timedelta(minutes=5))

    assert works(token)

    device.refresh_from_db()
    assert_near(device.expiry, timezone.now() + ttl)


def test_the_token_lifetime_comes_from_settings(alice, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=2)}

    response = sign_in()

    assert_near(parse_time(response.json()["expiry"]), timezone.now() + timedelta(hours=2))


# --- sign out and revoke -------------------------------------------------------------


def test_sign_out_revokes_only_this_device(alice):
    phone = signed_in_token(device_name="Phone")
    tablet = signed_in_token(device_name="Tablet")

    response = sign_out(phone)

    assert response.status_code == 204
    assert not works(phone)
    assert works(tablet)
    assert list(DeviceToken.objects.values_list("device_name", flat=True)) == ["Tablet"]


def test_sign_out_needs_a_token(db):
    response = api().delete(reverse("api:token"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_sign_out_with_a_session_has_no_token_to_revoke(alice):
    """A browser session (CSRF not enforced here, as APIClient.force_login does by
    default) reaches the view, which has no token to revoke: 403, nothing deleted."""
    token = signed_in_token()
    client = APIClient()
    client.force_login(alice)

    response = client.delete(reverse("api:token"))

    assert response.status_code == 403
    assert response.json() == {"detail": "This request was not made with an API token; there is no token to revoke."}
    assert works(token)


def test_session_requests_that_change_things_need_the_csrf_token(alice):
    """With CSRF enforced, as for a real browser, the session request is refused
    before the view runs."""
    token = signed_in_token()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    device = DeviceToken.objects.get()

    for url in (reverse("api:token"), reverse("api:device", kwargs={"pk": device.public_id})):
        response = client.delete(url)
        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]
    assert works(token)


def test_revoke_another_device_of_ones_own(alice):
    phone = signed_in_token(device_name="Phone")
    tablet = signed_in_token(device_name="Tablet")
    tablet_device = DeviceToken.objects.get(device_name="Tablet")

    response = revoke(phone, tablet_device)

    assert response.status_code == 204
    assert not works(tablet)
    assert works(phone)
    assert revoke(phone, tablet_device).status_code == 404  # already gone


def test_cannot_revoke_someone_elses_device(alice, bob):
    alices = signed_in_token("alice")
    bobs = signed_in_token("bob")

    response = revoke(bobs, DeviceToken.objects.get(user=alice))

    assert response.status_code == 404
    assert response.json() == {"detail": "No such device."}
    assert works(alices)


def test_revoking_an_unknown_device_is_404(alice):
    token = signed_in_token()

    response = api(token).delete(reverse("api:device", kwargs={"pk": uuid4()}))

    assert response.status_code == 404
    assert works(token)


def test_revoke_needs_credentials(alice):
    device, token = issue_token(alice, "Phone")

    assert api().delete(reverse("api:device", kwargs={"pk": device.public_id})).status_code == 401
    assert works(token)


# --- list of devices ----------------------------------------------------------------


def test_devices_lists_own_unexpired_devices_newest_first(alice, bob):
    now = timezone.now()
    # Issued in one order, dated in another: the list follows the dates.
    issued = {name: issue_token(alice, name) for name in ("Middle", "Newest", "Oldest")}
    for name, age in {"Oldest": 3, "Middle": 2, "Newest": 1}.items():
        DeviceToken.objects.filter(pk=issued[name][0].pk).update(created=now - timedelta(hours=age))
    expire(issue_token(alice, "Expired")[0])
    issue_token(bob, "Bob's phone")

    devices = list_devices(issued["Middle"][1])

    assert [d["device_name"] for d in devices] == ["Newest", "Middle", "Oldest"]
    assert [d["id"] for d in devices] == [str(issued[name][0].public_id) for name in ("Newest", "Middle", "Oldest")]
    assert [d["current"] for d in devices] == [False, True, False]


def test_devices_list_shows_no_secret(alice):
    device, token = issue_token(alice, "Phone")

    response = api(token).get(reverse("api:devices"))

    [listed] = response.json()
    assert set(listed) == DEVICE_FIELDS
    body = response.content.decode()
    for secret in (token, device.digest, device.token_key):
        assert secret not in body


def test_devices_list_through_a_session_has_no_current_device(alice):
    issue_token(alice, "Phone")
    client = APIClient()
    client.force_login(alice)

    response = client.get(reverse("api:devices"))

    assert response.status_code == 200
    assert [(d["device_name"], d["current"]) for d in response.json()] == [("Phone", False)]


def test_devices_list_needs_credentials(db):
    assert api().get(reverse("api:devices")).status_code == 401


# --- me -------------------------------------------------------------------------------


def test_me_reports_the_user_and_their_storage(alice, bob, settings):
    settings.USER_QUOTA_BYTES = 10 * 1024 * 1024
    add_photo(alice, 2 * 1024 * 1024)
    add_photo(alice, 512 * 1024)
    add_photo(bob, 5 * 1024 * 1024)
    token = issue_token(alice, "Phone")[1]

    response = me(token)

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == alice.pk
    assert body["user"]["username"] == "alice"
    assert body["user"]["email"] == "alice@example.com"
    assert parse_time(body["user"]["date_joined"]) == alice.date_joined
    assert {k: v for k, v in body.items() if k != "user"} == {
        "photo_count": 2,
        "bytes_used": 2560 * 1024,
        "quota_bytes": 10 * 1024 * 1024,
        "percent_used": 25,
    }


def test_me_for_a_new_user_is_empty(alice, settings):
    response = me(issue_token(alice, "Phone")[1])

    assert {k: v for k, v in response.json().items() if k != "user"} == {
        "photo_count": 0,
        "bytes_used": 0,
        "quota_bytes": settings.USER_QUOTA_BYTES,
        "percent_used": 0,
    }


def test_me_caps_percent_used_at_100(alice, settings):
    settings.USER_QUOTA_BYTES = 1000
    add_photo(alice, 1500)

    assert me(issue_token(alice, "Phone")[1]).json()["percent_used"] == 100


def test_me_through_a_session(alice):
    client = APIClient()
    client.force_login(alice)

    response = client.get(reverse("api:me"))

    assert response.status_code == 200
    assert response.json()["user"]["id"] == alice.pk


@pytest.mark.parametrize("header", [None, "Token garbage", "Token "], ids=["none", "garbage", "empty"])
def test_me_needs_credentials(db, header):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(reverse("api:me"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


# --- CORS -----------------------------------------------------------------------------

ORIGIN = "https://app.example"


def test_no_cors_by_default(alice):
    token = issue_token(alice, "Phone")[1]

    response = api(token).get(reverse("api:me"), HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_cors_for_configured_origins(alice, settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    token = issue_token(alice, "Phone")[1]

    response = api(token).get(reverse("api:me"), HTTP_ORIGIN=ORIGIN)
    preflight = APIClient().options(
        reverse("api:me"),
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    other = api(token).get(reverse("api:me"), HTTP_ORIGIN="https://evil.example")

    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in preflight["Access-Control-Allow-Headers"].lower()
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in other


def test_cors_never_reaches_the_site(alice_client, settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]

    for path in (reverse("profile"), reverse("login"), reverse("home")):
        response = alice_client.get(path, HTTP_ORIGIN=ORIGIN)
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response, path
