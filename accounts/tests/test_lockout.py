"""Login rate limit (django-axes): failures are counted per username and IP address
together, and the count reaching the limit blocks that pair for the cool-off time; many
failures from one address, over any accounts, block that address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD

ATTACKER_IP = "203.0.113.7"
OTHER_IP = "198.51.100.20"


def log_in(client, username: str, password: str, ip: str = ATTACKER_IP):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail_until_locked(client, settings, usernames: list[str], ip: str = ATTACKER_IP) -> None:
    statuses = [log_in(client, name, "wrong", ip).status_code for name in usernames]
    # The failure that reaches the limit is itself answered with the lockout page.
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]


@pytest.fixture
def five_failures(settings) -> int:
    assert settings.AXES_FAILURE_LIMIT == 5
    return settings.AXES_FAILURE_LIMIT


def test_wrong_passwords_lock_the_account(client, alice, settings, five_failures):
    fail_until_locked(client, settings, ["alice"] * five_failures)

    response = log_in(client, "alice", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    body = response.content.decode()
    assert "Too many failed log-in attempts" in body
    assert "try again in a minute" in body


def test_the_lock_is_of_that_account_from_that_address_only(client, alice, bob, settings, five_failures):
    """Someone on a shared address (an office, a phone network) who forgets their password
    locks neither a colleague out there nor their own account from elsewhere."""
    fail_until_locked(client, settings, ["alice"] * five_failures, ip=ATTACKER_IP)
    assert log_in(Client(), "alice", PASSWORD, ip=ATTACKER_IP).status_code == 429

    assert log_in(Client(), "bob", PASSWORD, ip=ATTACKER_IP).status_code == 302
    assert log_in(Client(), "alice", PASSWORD, ip=OTHER_IP).status_code == 302


def test_failures_spread_over_accounts_or_addresses_lock_nothing(client, alice, settings, five_failures):
    names = ["alice", "carol", "dave", "erin", "frank"]
    assert [log_in(client, name, "wrong").status_code for name in names] == [200] * five_failures
    ips = [f"203.0.113.{n}" for n in range(five_failures)]
    assert [log_in(client, "alice", "wrong", ip).status_code for ip in ips] == [200] * five_failures

    assert log_in(client, "alice", PASSWORD).status_code == 302


def test_a_right_password_clears_its_own_failures(client, alice, settings, five_failures):
    def fail_all_but_one() -> list[int]:
        return [log_in(client, "alice", "wrong").status_code for _ in range(five_failures - 1)]

    assert fail_all_but_one() == [200] * (five_failures - 1)
    assert log_in(client, "alice", PASSWORD).status_code == 302
    client.logout()
    # Counted from nought again: without the reset, the first of these would reach the limit.
    assert fail_all_but_one() == [200] * (five_failures - 1)


def test_lock_lifts_after_cool_off(client, alice, settings, five_failures):
    fail_until_locked(client, settings, ["alice"] * five_failures)

    def age_attempts(by: timedelta) -> None:
        for attempt in AccessAttempt.objects.all():
            attempt.attempt_time -= by
            attempt.save()

    age_attempts(settings.AXES_COOLOFF_TIME - timedelta(seconds=2))
    assert log_in(client, "alice", PASSWORD).status_code == 429

    # That refused try counted as a failure too, and restarted the cool-off.
    age_attempts(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
    assert log_in(client, "alice", PASSWORD).status_code == 302


def test_own_successful_logins_do_not_reset_the_count(client, alice, django_user_model, settings, five_failures):
    """An attacker with an account of their own, guessing at alice's password from
    the same address, logs into that account between guesses: the successes clear
    mallory's failures only, so the lock on alice still comes at the configured limit."""
    django_user_model.objects.create_user("mallory", "mallory@example.com", PASSWORD)

    for _ in range(five_failures - 1):
        assert log_in(client, "alice", "wrong").status_code == 200
        assert log_in(client, "mallory", PASSWORD).status_code == 302
        client.logout()
    assert log_in(client, "alice", "wrong").status_code == 429

    assert log_in(client, "alice", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_many_failures_over_any_accounts_lock_the_address(client, alice, bob, settings, five_failures):
    """Slower than the lock of one account: failures spread over accounts add up for
    the address they come from, within LOGIN_ADDRESS_FAILURE_RATE (50 an hour by
    default; 8 here to keep the test short)."""
    assert settings.LOGIN_ADDRESS_FAILURE_RATE == "50/hour"
    settings.LOGIN_ADDRESS_FAILURE_RATE = "8/hour"
    names = [f"guess{n}" for n in range(7)] + ["alice"]
    # As with one account, the failure that reaches the limit is answered with the lock-out.
    assert [log_in(client, name, "wrong").status_code for name in names] == [200] * 7 + [429]

    locked = log_in(Client(), "bob", PASSWORD)

    assert locked.status_code == 429
    assert 3590 <= int(locked["Retry-After"]) <= 3600
    assert "Logging in from your network is blocked for a while" in locked.content.decode()
    api_sign_in = Client().post(
        reverse("api:token"), {"username": "bob", "password": PASSWORD, "device_name": "phone"}, REMOTE_ADDR=ATTACKER_IP
    )
    assert api_sign_in.status_code == 429
    wait = api_sign_in["Retry-After"]
    assert api_sign_in.json() == {"detail": f"Too many failed sign-ins from your address, whatever the account. Try again in {wait} seconds."}
    assert log_in(Client(), "bob", PASSWORD, ip=OTHER_IP).status_code == 302

    # The oldest failures leave the window, and the address may sign in again.
    AccessFailureLog.objects.update(attempt_time=timezone.now() - timedelta(hours=1, seconds=1))
    assert log_in(Client(), "bob", PASSWORD).status_code == 302
