"""The API against its own OpenAPI schema, over HTTP: schemathesis generates
requests for every operation from /api/v1/schema/ (valid ones, and invalid ones
the API must refuse) and sends them to a live server, signed in with a real
knox token. No answer may be a server error, and every answer must be one the
schema describes: its status code, content type, body and headers. Response
objects are checked closed, so an answer cannot carry fields the schema omits.

Answers that random data cannot reach (a real photo upload, a finished job's
downloads, sign-in with the right password, the 429s) are sent as explicit
cases through the same checks."""

import base64
import io
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings as hypothesis_settings, strategies as st
from PIL import Image
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import DeviceToken
from accounts.tokens import issue_token
from conftest import PASSWORD
from gallery import blends, jobs
from gallery.models import Photo, Restoration
from gallery.tests.conftest import photo_bytes
from gallery.uploads import accept_photo

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
OPENAPI_JSON = "application/vnd.oai.openapi+json"
# Path ids that the test body swaps for an object made for that one call (see prepare()).
FRESH_PHOTO = "00000000-0000-4000-8000-00000000f0f0"
FRESH_DEVICE = "00000000-0000-4000-8000-00000000d0d0"


# Cursors as DRF encodes them (base64 of o=offset&r=reverse&p=position), with any position.
made_up_cursors = st.builds(
    lambda offset, reverse, position: base64.b64encode(
        urlencode({"o": offset, "r": int(reverse), "p": position}).encode()
    ).decode(),
    st.integers(0, 2000),
    st.booleans(),
    st.one_of(st.text(), st.datetimes().map(str), st.dates().map(str)),
)


def closed_responses(raw: dict) -> dict:
    """The schema with every object in a response closed (additionalProperties:
    false): an answer may not carry a field the schema does not name, so the
    schema says all there is. Request bodies stay open, as the API ignores
    unknown fields. Request components are the ones named *Request
    (COMPONENT_SPLIT_REQUEST)."""

    def close(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    for name, component in raw["components"]["schemas"].items():
        if not name.endswith("Request"):
            close(component)
    for operations in raw["paths"].values():
        for operation in operations.values():
            close(operation.get("responses", {}))
    return raw


def _photo(user, seed: int, **kwargs) -> Photo:
    return accept_photo(user, io.BytesIO(photo_bytes(seed=seed)), original_name=f"photo-{seed}.jpg", **kwargs)


@pytest.fixture
def api(live_server, active_model, settings, monkeypatch, django_user_model):
    """A user with a photo in every state, a token, and rates high enough for a
    few hundred requests a minute from one IP."""
    # DRF copies DEFAULT_THROTTLE_RATES onto the throttle classes when it is
    # imported, so overriding the setting would change nothing: patch the copy.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth": "100000/minute"})
    settings.UPLOAD_RATE_PHOTOS = "100000/hour"
    settings.UPLOAD_QUEUE_MEGAPIXELS = 100000
    # Random passwords would otherwise lock sign-in after five tries and every
    # later sign-in would be a (documented) 429; the lock-out has tests of its own.
    settings.AXES_FAILURE_LIMIT = 100000
    settings.LOGIN_ADDRESS_FAILURE_RATE = "100000/hour"
    cache.clear()
    # No worker runs, and nothing goes to the broker: the one job that must
    # finish is run right here.
    monkeypatch.setattr("gallery.jobs.send", lambda restoration_id, queue: None)

    user = django_user_model.objects.create_user("schemathesis", "st@example.com", PASSWORD)
    # Camera shake: the kernel engine always leaves a kernel, so its fields are in the answers checked.
    succeeded = _photo(user, 1, reference=io.BytesIO(photo_bytes(seed=1, fmt="PNG")), choice="shake")
    jobs.run(succeeded.restoration.pk)
    assert Restoration.objects.get(photo=succeeded).status == Restoration.Status.SUCCEEDED
    failed = _photo(user, 2)
    Restoration.objects.filter(photo=failed).update(status=Restoration.Status.FAILED, error="Test failure.")
    still_queued = _photo(user, 3, strength=0.5)
    _, token = issue_token(user, "schemathesis")

    raw = requests.get(f"{live_server.url}/api/v1/schema/", headers={"Accept": OPENAPI_JSON}, timeout=30).json()
    schema = schemathesis.openapi.from_dict(closed_responses(raw))
    schema.config.update(base_url=live_server.url)
    photo_ids = [str(photo.pk) for photo in (succeeded, failed, still_queued)]

    @schema.hook
    def before_generate_path_parameters(context, strategy):
        """Besides random ids (404), the ids of real photos and devices."""
        path, method = context.operation.path, context.operation.method.upper()
        if path.startswith("/api/v1/photos/{id}/results/"):
            # A photo and one of its results; deleting a photo's only result is a (documented) 409.
            pairs = [{"id": str(photo.pk), "result_id": photo.restoration_id} for photo in (succeeded, failed, still_queued)]
            return st.one_of(strategy, st.sampled_from(pairs))
        if path.startswith("/api/v1/photos/{id}/"):
            known = [FRESH_PHOTO] if method == "DELETE" else photo_ids
        elif path == "/api/v1/auth/tokens/{id}/":
            known = [FRESH_DEVICE]
        else:
            return strategy
        return st.one_of(strategy, st.sampled_from(known).map(lambda pk: {"id": pk}))

    @schema.hook
    def before_generate_query(context, strategy):
        """Random text is almost never a cursor; made-up cursors test that the
        API refuses one it did not hand out (404), whatever its position says."""
        if context.operation.path != "/api/v1/photos/" or context.operation.method.upper() != "GET":
            return strategy
        return st.one_of(strategy, made_up_cursors.map(lambda cursor: {"cursor": cursor}))

    return SimpleNamespace(schema=schema, user=user, token=token, photos=[succeeded, failed, still_queued])


@pytest.fixture
def api_schema(api):
    return api.schema


def prepare(case, api) -> dict[str, str]:
    """The headers for this call; destructive calls get objects of their own, so
    the run keeps its token and its photos:

    - signing out (DELETE /auth/token/) revokes the token the request is made
      with, so it is made with a fresh token, never the run's;
    - revoking a device and deleting a photo take a device or photo made for
      that call when the generated id is the FRESH_ placeholder."""
    token = api.token
    if case.method.upper() == "DELETE" and case.path == "/api/v1/auth/token/":
        _, token = issue_token(api.user, "to sign out")
    if case.path_parameters and case.path_parameters.get("id") == FRESH_DEVICE:
        device, _ = issue_token(api.user, "to revoke")
        case.path_parameters["id"] = str(device.public_id)
    if case.path_parameters and case.path_parameters.get("id") == FRESH_PHOTO:
        case.path_parameters["id"] = str(_photo(api.user, seed=9).pk)
    return {"Authorization": f"Token {token}"}


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis 4.32 reads `node._nodeid`, which pytest 9.2 no longer sets (it
    keeps the id in `node._id`): give it the id it expects."""
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


# 20 generated cases per operation, besides schemathesis's examples and coverage
# phases: about half a minute in all. A live server is slow by Hypothesis's
# standards and the fixture is set up once for all operations, so its health
# checks (too slow, function-scoped fixture) do not apply; no example database.
@schema.parametrize()
@hypothesis_settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_operation_answers_as_its_schema_says(case, api):
    case.call_and_validate(headers=prepare(case, api), checks=CHECKS)


# Explicit cases: answers that random data seldom or never reaches (a real
# upload, a finished job, the right password, 429s), through the same checks.


def call(api, method: str, path: str, *, token: str | None = "run", **case):
    """Send one case to the operation `method /api/v1<path>` and run CHECKS on its answer."""
    operation = api.schema[f"/api/v1{path}"][method]
    if token == "run":
        token = api.token
    headers = {"Authorization": f"Token {token}"} if token else {}
    return operation.Case(**case).call_and_validate(headers=headers, checks=CHECKS)


def test_happy_paths_answer_as_the_schema_says(api):
    succeeded, failed, queued = api.photos
    new_user = {"username": "dora", "email": "dora@example.com", "password": "a long and unusual passphrase 42"}
    registered = call(api, "POST", "/auth/register/", token=None, body=new_user, media_type="application/json")
    assert registered.status_code == 201 and registered.json()["username"] == "dora"

    sign_in = {"username": "schemathesis", "password": PASSWORD, "device_name": "Pixel 9"}
    signed_in = call(api, "POST", "/auth/token/", token=None, body=sign_in, media_type="application/json")
    assert signed_in.status_code == 201
    phone_token, phone_id = signed_in.json()["token"], signed_in.json()["device"]["id"]
    devices = call(api, "GET", "/auth/tokens/", token=phone_token).json()
    assert {d["id"]: d["current"] for d in devices}[phone_id] is True
    assert call(api, "GET", "/me/").json()["photo_count"] == 3

    upload = {
        "image": photo_bytes(seed=5, blur=1.5),
        "reference": photo_bytes(seed=5, fmt="PNG"),
        "strength": 0.25,
        "model": "fast",
    }
    uploaded = call(api, "POST", "/photos/", body=upload, media_type="multipart/form-data")
    assert uploaded.status_code == 201
    assert uploaded.json()["has_reference"] and uploaded.json()["strength"] == 0.25
    assert (uploaded.json()["status"], uploaded.json()["model"]) == ("queued", "fast")

    first = call(api, "GET", "/photos/", query={"page_size": 2})
    assert len(first.json()["results"]) == 2 and first.json()["next"]
    cursor = parse_qs(urlsplit(first.json()["next"]).query)["cursor"][0]
    rest = call(api, "GET", "/photos/", query={"page_size": 2, "cursor": cursor}).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    only_done = call(api, "GET", "/photos/", query={"status": "succeeded"}).json()["results"]
    assert [p["id"] for p in only_done] == [str(succeeded.pk)]

    detail = call(api, "GET", "/photos/{id}/", path_parameters={"id": str(succeeded.pk)}).json()
    assert detail["status"] == "succeeded" and detail["result_url"] and detail["metrics"]["psnr_after"] is not None
    assert detail["model"] == "shake" and detail["method"] in ("kernel", "none") and detail["verdict"]
    assert detail["kernel_url"] and detail["kernel_size"] >= 1
    for fmt, media_type in (("png", "image/png"), ("jpeg", "image/jpeg"), ("webp", "image/webp")):
        result = call(
            api, "GET", "/photos/{id}/result/", path_parameters={"id": str(succeeded.pk)}, query={"format": fmt}
        )
        assert result.status_code == 200 and result.headers["content-type"] == [media_type]
        assert Image.open(io.BytesIO(result.content)).size == (96, 64)
    done = {"id": str(succeeded.pk)}
    patched = call(api, "PATCH", "/photos/{id}/", path_parameters=done, body={"strength": 0.5}, media_type="application/json")
    assert patched.status_code == 200 and patched.json()["strength"] == 0.5
    preparing = call(api, "GET", "/photos/{id}/result/", path_parameters=done, query={"format": "webp"})
    assert preparing.status_code == 202 and preparing.headers["retry-after"] == ["2"]
    blends.render(succeeded.restoration.pk)  # the downloads worker
    blended = call(api, "GET", "/photos/{id}/result/", path_parameters=done, query={"format": "webp"})
    assert blended.status_code == 200 and blended.headers["content-type"] == ["image/webp"]
    rerun = call(api, "POST", "/photos/{id}/rerun/", path_parameters=done, body={"model": "fast"}, media_type="application/json")
    assert rerun.status_code == 202 and rerun.json()["status"] == "queued"
    added, first = rerun.json()["current_result"], succeeded.restoration_id
    jobs.run(added)
    chosen = call(api, "POST", "/photos/{id}/results/{result_id}/current/", path_parameters={**done, "result_id": first})
    assert chosen.status_code == 200 and chosen.json()["current_result"] == first
    dropped = call(api, "DELETE", "/photos/{id}/results/{result_id}/", path_parameters={**done, "result_id": added})
    assert dropped.status_code == 204 and [row["id"] for row in chosen.json()["results"]] == [first, added]

    retried = call(api, "POST", "/photos/{id}/retry/", path_parameters={"id": str(failed.pk)})
    assert retried.status_code == 202 and retried.json()["status"] == "queued"
    cancelled = call(api, "POST", "/photos/{id}/cancel/", path_parameters={"id": str(queued.pk)})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert call(api, "DELETE", "/photos/{id}/", path_parameters={"id": str(queued.pk)}).status_code == 204
    assert not Photo.objects.filter(pk=queued.pk).exists()

    assert call(api, "DELETE", "/auth/tokens/{id}/", path_parameters={"id": phone_id}).status_code == 204
    _, laptop_token = issue_token(api.user, "laptop")
    assert call(api, "DELETE", "/auth/token/", token=laptop_token).status_code == 204
    assert list(DeviceToken.objects.filter(user=api.user).values_list("device_name", flat=True)) == ["schemathesis"]
    assert call(api, "GET", "/models/active/", token=None).json()["name"] == "tiny-test"
    choices = call(api, "GET", "/models/", token=None).json()
    assert [choice["key"] for choice in choices] == ["auto", "best", "fast", "shake"]
    assert [(choice["model"] or {}).get("name") for choice in choices] == [None, "tiny-test", "tiny-test", None]


def test_error_answers_are_the_documented_ones(api, django_user_model, settings, monkeypatch):
    succeeded, _, queued = api.photos
    bob = django_user_model.objects.create_user("bob", "bob@example.com", PASSWORD)
    bobs = _photo(bob, 7)

    assert call(api, "GET", "/me/", token="not-a-token").status_code == 401
    assert call(api, "GET", "/photos/{id}/", path_parameters={"id": str(bobs.pk)}).status_code == 404
    assert call(api, "POST", "/photos/{id}/retry/", path_parameters={"id": str(queued.pk)}).status_code == 409
    assert call(api, "GET", "/photos/{id}/result/", path_parameters={"id": str(queued.pk)}).status_code == 409
    assert call(api, "POST", "/photos/{id}/cancel/", path_parameters={"id": str(succeeded.pk)}).status_code == 409
    not_an_image = {"image": b"plain text, not a picture"}
    assert call(api, "POST", "/photos/", body=not_an_image, media_type="multipart/form-data").status_code == 415
    settings.UPLOAD_MAX_BYTES = 1000
    too_large = call(api, "POST", "/photos/", body={"image": photo_bytes(seed=6)}, media_type="multipart/form-data")
    assert too_large.status_code == 413 and "image" in too_large.json()
    # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE before DRF parses it; still JSON.
    huge = {"username": "x" * 3_000_000, "email": "x@example.com", "password": "x"}
    refused = call(api, "POST", "/auth/register/", token=None, body=huge, media_type="application/json")
    assert refused.status_code == 400 and refused.json()["detail"] == "The request is too large: at most 2.5 MB besides its files."

    # Rates of one a minute and one an hour: the second try is a 429, with Retry-After.

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth": "1/minute"})
    settings.UPLOAD_RATE_PHOTOS = "1/hour"
    cache.clear()
    wrong = {"username": "schemathesis", "password": "wrong", "device_name": "x"}
    assert call(api, "POST", "/auth/token/", token=None, body=wrong, media_type="application/json").status_code == 400
    throttled = call(api, "POST", "/auth/token/", token=None, body=wrong, media_type="application/json")
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"][0]) > 0
    settings.UPLOAD_MAX_BYTES = 25 * 1024 * 1024
    upload = {"image": photo_bytes(seed=8)}
    assert call(api, "POST", "/photos/", body=upload, media_type="multipart/form-data").status_code == 201
    throttled = call(api, "POST", "/photos/", body=upload, media_type="multipart/form-data")
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"][0]) > 0
