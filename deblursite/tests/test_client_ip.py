"""Which address lockouts and rate limits count against: X-Forwarded-For only as
far as the configured proxies reach."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from conftest import PASSWORD
from deblursite.client_ip import client_ip


def request(remote: str = "10.0.0.5", forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_proxies_a_forwarded_header_is_ignored(settings):
    settings.PROXY_COUNT = 0
    assert client_ip(request(forwarded="8.8.8.8")) == "10.0.0.5"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "8.8.4.4", "8.8.4.4"),
        # The client made up the left entry; the proxy appended the real one.
        (1, "1.2.3.4, 8.8.4.4", "8.8.4.4"),
        (2, "1.2.3.4, 8.8.4.4, 172.16.0.9", "8.8.4.4"),
        # Fewer entries than proxies: the request did not come through them all.
        (2, "8.8.4.4", "10.0.0.5"),
        (1, "", "10.0.0.5"),
    ],
)
def test_behind_proxies_the_client_is_what_the_outermost_proxy_saw(settings, proxies, forwarded, expected):
    settings.PROXY_COUNT = proxies
    assert client_ip(request(forwarded=forwarded)) == expected


def test_lockout_behind_a_proxy_blocks_the_client_not_the_proxy(client, bob, settings):
    settings.PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    # Lock-outs are per account and address: read from the proxy's address, the second
    # client would share the first one's lock.
    for _ in range(5):
        client.post(reverse("login"), {"username": "bob", "password": "wrong"}, HTTP_X_FORWARDED_FOR="8.8.4.4", **proxy)

    blocked = client.post(reverse("login"), {"username": "bob", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="8.8.4.4", **proxy)
    other = client.post(reverse("login"), {"username": "bob", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="9.9.9.9", **proxy)

    assert blocked.status_code == 429
    assert other.status_code == 302
