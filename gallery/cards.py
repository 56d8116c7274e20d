"""The gallery page's cards. A finished job's card changes only with the rows of its photo
and job and with the photo's age in words ("3 minutes ago"), so it is rendered once for each
version of these and kept in this process's memory: rendering took 9 of the page's 21 ms
(24 cards; docs/reliability.md)."""

import hashlib

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.cache import caches
from django.db.models import Model
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .models import Photo

TEMPLATE = "gallery/_card.html"
# The keys change with what the card shows; this only bounds how long an unseen card is kept.
KEEP_SECONDS = 3600


def _columns(row: Model) -> tuple:
    return tuple(getattr(row, field.attname) for field in row._meta.concrete_fields)


def _key(photo: Photo) -> str:
    """Every column of the photo and of its job, and the age the card shows: a change to any of
    them makes another key. The photo's id is among them, so a card is only ever its owner's."""
    version = repr((_columns(photo), _columns(photo.restoration), naturaltime(photo.created)))
    return "card:" + hashlib.sha256(version.encode()).hexdigest()


def render(photos: list[Photo], request: HttpRequest, back: str) -> list[SafeString]:
    """The photos' cards, in their order. An unfinished job's card is rendered every time: its
    progress and queue position move, and its cancel form carries the user's CSRF token."""
    cache = caches["local"]
    keys = {photo.pk: _key(photo) for photo in photos if photo.restoration.is_done}
    kept = cache.get_many(keys.values())
    cards = []
    for photo in photos:
        key = keys.get(photo.pk)
        card = kept.get(key) if key else None
        if card is None:
            card = render_to_string(TEMPLATE, {"photo": photo, "back": back}, request)
            if key:
                cache.set(key, card, KEEP_SECONDS)
        cards.append(mark_safe(card))
    return cards
