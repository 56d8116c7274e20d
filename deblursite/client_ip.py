"""The client's IP address, for lockouts and rate limits.

X-Forwarded-For is trusted only as far as the configured proxies reach: with
PROXY_COUNT proxies in front, the client is the entry that the outermost one
appended, PROXY_COUNT places from the right. Anything left of it came from the
client and may be made up. With no proxy, REMOTE_ADDR is the client."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    proxies = settings.PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
