"""Section 2: user B and an anonymous client try every route that names one of user A's
photos (or devices, or a signed link to A's file), every method. The routes come from the
URL resolver, so a new route is swept without changing the probe."""

import io
import re
import secrets
import zipfile
from collections.abc import Iterator

from django.core import signing
from django.urls import URLPattern, URLResolver, get_resolver

from .site import Site, csrf

SECTION = "ownership"
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
WEB_METHODS = ("GET", "POST")
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Admin pages of other models name no photo; the admin's photo and job pages do.
ADMIN_MODELS = ("admin/gallery/photo/", "admin/gallery/restoration/")


def routes() -> Iterator[str]:
    def walk(patterns, prefix: str) -> Iterator[str]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and PARAM.search(route):
                yield route

    yield from walk(get_resolver().url_patterns, "/")


def fills(route: str, ids: dict[str, str]) -> list[str] | None:
    """The URLs of a route filled with A's ids, or None for a route that names none of them:
    a photo or device (a uuid pk) and one of the photo's results, a photo or job on the
    admin, a signed link to a file."""
    params = set(PARAM.findall(route))
    route = route.replace("<int:result_id>", ids["restoration"])
    if ("path", "object_id") in params:
        if not route.startswith(tuple("/" + prefix for prefix in ADMIN_MODELS)):
            return None
        return [PARAM.sub(ids["restoration" if "/restoration/" in route else "photo"], route)]
    if ("str", "token") in params:
        return [PARAM.sub(ids["tampered_token"], route)] if route.startswith("/photos/links/") else None
    if ("uuid", "pk") not in params:
        return None
    pk = ids["device"] if ("device" in route or "tokens" in route) else ids["photo"]
    if ("slug", "kind") in params:
        from gallery.views import KINDS, RESULT_VIEWER_FILES

        kinds = RESULT_VIEWER_FILES if ("int", "result_id") in params else KINDS
        return [route.replace("<uuid:pk>", pk).replace("<slug:kind>", kind) for kind in kinds]
    return [PARAM.sub(pk, route)]


def run(site: Site, alice, alice_photo: dict, alice_api) -> None:
    from accounts.models import DeviceToken
    from gallery.media import SIGNED_LINK_SALT
    from gallery.models import Restoration

    bob = site.user("bob")
    bob_api, bob_web, anonymous = site.api(bob), site.web(bob), site.anonymous()
    anonymous.get(f"{site.base}/accounts/login/", timeout=30)  # a CSRF cookie, so a refusal is not just CSRF's
    token = signing.dumps([f"originals/{alice_photo['id']}.png", None], salt=SIGNED_LINK_SALT, compress=True)
    ids = {
        "photo": alice_photo["id"],
        "restoration": str(Restoration.objects.get(photo_id=alice_photo["id"]).pk),
        "device": str(DeviceToken.objects.filter(user=alice).first().public_id),
        "tampered_token": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
    }
    before = (site.job(alice_photo["id"]), site.keys_of(alice_photo["id"]))
    secret = alice_photo["original_name"]
    total = denied = 0
    for route in routes():
        urls = fills(route, ids)
        if urls is None:
            continue
        is_api = route.startswith("/api/")
        outcomes: set[str] = set()
        failures: list[str] = []
        for url in urls:
            for method in API_METHODS if is_api else WEB_METHODS:
                for who, session in (("bob", bob_api if is_api else bob_web), ("anonymous", anonymous)):
                    headers = {"X-CSRFToken": csrf(session)}
                    response = session.request(method, site.base + url, headers=headers, allow_redirects=False, timeout=30)
                    total += 1
                    verdict = _verdict(response, secret, ids["photo"])
                    outcomes.add(str(response.status_code))
                    if verdict:
                        failures.append(f"{who} {method} {url}: {verdict}")
                    else:
                        denied += 1
        label = route if len(urls) == 1 else f"{route} ({len(urls)} kinds)"
        got = f"{'/'.join(sorted(outcomes))}" + (f"; {failures[0]}" if failures else "")
        site.record(SECTION, label, "401/403/404/405 or sign-in, never A's data", got, not failures)
    _lists_and_bulk_actions(site, bob_api, bob_web, alice_photo["id"], secret)
    after = (site.job(alice_photo["id"]), site.keys_of(alice_photo["id"]))
    me = alice_api.get(f"{site.base}/api/v1/me/", timeout=30).status_code
    unchanged = before == after and me == 200
    site.record(SECTION, "A's photo, job, files and token afterwards", "unchanged, A's token works", "unchanged" if unchanged else f"changed: {before} -> {after}, /me/ {me}", unchanged)
    site.figures["ownership sweep"] = f"{denied} of {total} requests refused"


def _lists_and_bulk_actions(site: Site, bob_api, bob_web, photo_id: str, secret: str) -> None:
    """Routes that take photo ids in the body or list photos: B's lists, B's bulk download and delete."""
    checks = {
        "B's API list": bob_api.get(f"{site.base}/api/v1/photos/", timeout=30),
        "B's history page": bob_web.get(f"{site.base}/photos/", timeout=30),
        "B's bulk download of A's id": bob_web.post(f"{site.base}/photos/download/", data={"ids": photo_id}, headers={"X-CSRFToken": csrf(bob_web)}, allow_redirects=False, timeout=30),
        "B's bulk delete of A's id": bob_web.post(f"{site.base}/photos/delete/", data={"ids": photo_id}, headers={"X-CSRFToken": csrf(bob_web)}, allow_redirects=False, timeout=30),
    }
    for case, response in checks.items():
        leak = _leak(response, secret) or (photo_id in response.text and "shows A's photo id")
        site.record(SECTION, case, "nothing of A's", f"{response.status_code} {leak or 'nothing of A'}", not leak)


def _leak(response, secret: str) -> str:
    if secret in response.text:
        return "shows A's file name"
    kind = response.headers.get("Content-Type", "")
    if kind.startswith("image/"):
        return "serves an image"
    if kind.startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return f"a zip of {len(archive.namelist())} files" if archive.namelist() else ""
    return ""


def _verdict(response, secret: str, photo_id: str) -> str:
    """Why an answer is not a refusal, or '' for a refusal: 401/403/404/405, a redirect to
    sign in, or (for a POST) back to one of the site's own pages that is not A's photo."""
    if leak := _leak(response, secret):
        return f"{response.status_code} {leak}"
    location = response.headers.get("Location", "")
    if response.status_code in (401, 403, 404, 405):
        return ""
    if 300 <= response.status_code < 400 and location.startswith("/"):
        path = location.split("?")[0]
        if path.endswith("/login/") or (response.request.method == "POST" and photo_id not in path):
            return ""
    return f"{response.status_code} {location or response.text[:80]!r}"


def secret_name() -> str:
    return f"alice-private-{secrets.token_hex(4)}.png"
