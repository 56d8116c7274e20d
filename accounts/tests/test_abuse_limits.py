"""Limits on the pages that anyone can call: password reset mails per address asked for
and per client, and sign-ups per client (at the API's rate). Counted in the cache the
settings configure (Redis in the test runs)."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.tests.test_signup import GOOD

CLIENT_IP = "203.0.113.7"
OTHER_IP = "198.51.100.20"


def ask_reset(email: str, ip: str = CLIENT_IP):
    return Client().post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


def refusal(response) -> str:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3900  # an hour and a twelfth: the window slides in twelfths
    form = response.context["form"]
    (message,) = form.non_field_errors() if form.is_bound else [response.context["refusal"]]
    assert message in response.content.decode()
    return message


def test_reset_mails_to_one_address_are_limited_alike_whether_or_not_it_has_an_account(alice, settings):
    assert settings.PASSWORD_RESET_RATE_EMAIL == "3/hour"
    # From a new client address each time: the limit is the address asked for.
    for n in range(3):
        assert ask_reset("alice@example.com", ip=f"192.0.2.{n}")["Location"] == reverse("password_reset_done")
        assert ask_reset("nobody@example.com", ip=f"192.0.2.{n}").status_code == 302
    assert len(mail.outbox) == 3

    known, unknown = ask_reset("Alice@Example.com", ip=OTHER_IP), ask_reset("nobody@example.com", ip=OTHER_IP)

    assert refusal(known) == refusal(unknown)
    assert refusal(known).startswith("Too many reset links were asked for")
    assert "no email was sent" in refusal(known)
    assert len(mail.outbox) == 3
    # Another address is not held up by it.
    assert ask_reset("bob@example.com", ip=OTHER_IP).status_code == 302


def test_reset_requests_from_one_client_are_limited(alice, settings):
    assert settings.PASSWORD_RESET_RATE_CLIENT == "10/hour"
    assert [ask_reset(f"user{n}@example.com").status_code for n in range(10)] == [302] * 10

    refused = ask_reset("alice@example.com")

    assert "Too many reset links" in refusal(refused)
    assert mail.outbox == []
    # The refusal took nothing from alice's own allowance, and other clients go on.
    assert ask_reset("alice@example.com", ip=OTHER_IP).status_code == 302
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_web_sign_ups_are_throttled_per_client_at_the_api_rate(settings):
    settings.API_AUTH_RATE = "3/minute"
    probes = [Client().post(reverse("signup"), {**GOOD, "username": f"probe{n}", "password2": "x"}, REMOTE_ADDR=CLIENT_IP) for n in range(3)]
    assert [probe.status_code for probe in probes] == [200] * 3

    refused = Client().post(reverse("signup"), GOOD, REMOTE_ADDR=CLIENT_IP)

    assert refusal(refused).startswith("Too many sign-ups from your network. Please try again in")
    assert not get_user_model().objects.exists()
    # The form is not validated when refused, so a taken name is not given away either.
    assert not refused.context["form"].is_bound
    assert Client().post(reverse("signup"), GOOD, REMOTE_ADDR=OTHER_IP).status_code == 302
