"""The Idempotency-Key of API uploads: a client that timed out and posts again, with the
same key, gets the first answer again instead of a second photo and job.

A key belongs to one user for 24 hours. Its row is made before the upload's work, under a
unique (user, key): of two requests at once with one key, one makes the row and does the
work, the other finds the row and is told to wait. Only a success is kept to answer again;
a refusal or a failure frees the key, so the same request can be sent again and do the work."""

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from deblursite.api_errors import Conflict, Unprocessable

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
# What a replayed answer carries, so that a client can tell it from a fresh one.
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_FOR = timedelta(hours=24)
# A first request still at work after this long died with its process (gunicorn's --timeout
# is 120 s): its key is free again.
ABANDONED_AFTER = timedelta(minutes=10)
MAX_LENGTH = IdempotencyKey._meta.get_field("key").max_length

PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Any string of up to 255 characters, new for each upload (a UUID, say). Sent again with the same "
    "request within 24 hours, the answer is the first one again (with `Idempotent-Replayed: true`) and no second "
    "photo is made; with a different request, 422.",
)


def fingerprint(data) -> str:
    """SHA-256 of a request's fields and files (names and bytes): what a key may be sent again with."""
    digest = hashlib.sha256()

    def feed(part: bytes) -> None:
        digest.update(len(part).to_bytes(8, "big") + part)

    for name in sorted(data.keys()):
        for value in data.getlist(name):
            feed(name.encode())
            if hasattr(value, "chunks"):
                feed(b"file:" + (value.name or "").encode())
                for chunk in value.chunks():
                    digest.update(chunk)
                value.seek(0)
            else:
                feed(b"field:" + str(value).encode())
    return digest.hexdigest()


def _check(key: str) -> None:
    if not key or len(key) > MAX_LENGTH or not key.isprintable():
        raise serializers.ValidationError({HEADER: [f"Send 1 to {MAX_LENGTH} printable characters."]})


def _reserve(user, key: str, sent: str) -> IdempotencyKey:
    """The key's row for this request: a new one, still without an answer, or the first
    request's with its answer."""
    now = timezone.now()
    # The sweep: cheap on the index of `created`, so every keyed request does it.
    IdempotencyKey.objects.filter(created__lt=now - KEPT_FOR).delete()
    IdempotencyKey.objects.filter(user=user, key=key, status_code=None, created__lt=now - ABANDONED_AFTER).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=user, key=key, fingerprint=sent)
    except IntegrityError:
        first = IdempotencyKey.objects.filter(user=user, key=key).first()
    if first is not None and first.fingerprint != sent:
        raise Unprocessable(
            f"This {HEADER} was sent in the last 24 hours with a different request. Use a new key for a new upload."
        )
    if first is None or first.status_code is None:
        raise Conflict(f"A request with this {HEADER} is still at work. Wait for its answer, or try again in a moment.")
    return first


def once(request: Request, respond: Callable[[], Response]) -> Response:
    """Answer an upload once per key: `respond` does the work, unless a request with this
    user and key did it already."""
    key = request.headers.get(HEADER)
    if key is None:
        return respond()
    _check(key)
    record = _reserve(request.user, key, fingerprint(request.data))
    if record.status_code is not None:
        return Response(record.body, status=record.status_code, headers={REPLAYED_HEADER: "true"})
    try:
        response = respond()
    except BaseException:
        record.delete()
        raise
    if not 200 <= response.status_code < 300:
        record.delete()
        return response
    record.status_code, record.body = response.status_code, response.data
    record.save(update_fields=["status_code", "body"])
    return response
